#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a C file defining `const char NAME[]` with the text of a file,
so that a data file in the source tree (the D-Bus introspection XML) is
the one source of truth and the binary serves exactly it.
Usage: embed-text.py INPUT OUTPUT NAME"""
import sys

src, dst, name = sys.argv[1:4]
with open(src, encoding="utf-8") as f:
    text = f.read()
lines = ['/* Generated from %s by tools/embed-text.py. */' % src.split('/')[-1],
         'const char %s[] =' % name]
for line in text.splitlines(keepends=True):
    lines.append('        "%s"' % line.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n'))
lines[-1] += ';'
with open(dst, "w", encoding="utf-8") as f:
    f.write('\n'.join(lines) + '\n')
