#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages as built: each renders without a warning from man or
# troff; hostendpointd(8) documents every option of hostendpointd --help,
# hepctl(8) every command of hepctl --help and every option of each
# command's --help; hostendpoint-dbus(7) documents every method, property
# and signal of the introspection XML, in its interface's section.
. "$(dirname "$0")/lib.sh"
command -v man >/dev/null || { echo "skipping: man (man-db) is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "skipping: python3 is not installed"; exit 77; }

MAN="$BUILDDIR/packaging"
PAGES="hostendpointd.8 hepctl.8 hostendpoint.conf.5 hostendpoint-dbus.7"

# What a page's roff source says, without its font changes and escapes,
# so that "\-\-log\-level" reads as --log-level.
plain() {
        sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\e/\\/g' -e 's/\\&//g' "$1"
}
# The tags of its paragraphs (the line after each .TP): where options are
# documented, not merely mentioned.
tags() {
        plain "$1" | sed -n '/^\.TP/{n;p}'
}

for p in $PAGES; do
        expect_true "[ -f '$MAN/$p' ]" "$p is built"
        # man's default width when not writing to a terminal; fixed so that
        # the result does not depend on the test's terminal.
        run env LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$MAN/$p"
        expect_rc 0 "man renders $p"
        expect_err "" "$p renders without a warning"
        expect_true "[ \$(printf '%s\\n' \"\$OUT\" | wc -l) -gt 20 ]" "$p renders to some text"
        expect_true "! grep -q '@[A-Za-z_]*@' '$MAN/$p'" "every @placeholder@ of $p is substituted"
        # What mandb indexes for whatis and apropos (lintian's bad-whatis-entry).
        run lexgrog "$MAN/$p"
        expect_out_contains ": \"${p%.*} - " "lexgrog reads the NAME of $p for whatis"
done

# Defaults as built, not as written in the source.
sysconfdir_default=$("$BUILDDIR/module/hostendpointd" --help | sed -n 's/.*--config=FILE.*\[default: \(.*\)\]/\1/p')
expect_true "[ -n '$sysconfdir_default' ] && grep -qF '$sysconfdir_default' '$MAN/hostendpointd.8'" \
        "hostendpointd(8) names the default settings file as built ($sysconfdir_default)"

# hostendpointd: every option its --help shows.
run "$BUILDDIR/module/hostendpointd" --help
opts=$(printf '%s\n' "$OUT" | grep -oE '(^|[[:space:]])--?[a-z][a-z-]*' | tr -d ' ' | sort -u)
expect_true "[ \$(printf '%s\\n' '$opts' | wc -l) -ge 10 ]" "hostendpointd --help shows its options"
for o in $opts; do
        expect_true "tags '$MAN/hostendpointd.8' | grep -qE -- '(^|[^a-z-])$o([^a-z-]|\$)'" "hostendpointd(8) documents $o"
done

# hepctl: every command (a section of its own), and each command's options.
run "$HEPCTL" --help
cmds=$(printf '%s\n' "$OUT" | sed -n '/^Commands:/,/^$/s/^  \([a-z]\+\) .*/\1/p')
expect_true "[ \$(printf '%s\\n' '$cmds' | wc -w) -ge 10 ]" "hepctl --help lists its commands"
for o in $(printf '%s\n' "$OUT" | sed -n '/^Options:/,/^$/p' | grep -oE '(^|[[:space:]])--?[a-z][a-z-]*' | tr -d ' '); do
        expect_true "tags '$MAN/hepctl.8' | grep -qE -- '(^|[^a-z-])$o([^a-z-]|\$)'" "hepctl(8) documents the global option $o"
done
for c in $cmds; do
        expect_true "plain '$MAN/hepctl.8' | grep -E '^\\.SS ' | grep -qw '$c'" "hepctl(8) has a section for the command $c"
        help=$("$HEPCTL" "$c" --help)
        for o in $(printf '%s\n' "$help" | grep -oE '(^|[[:space:][])--?[a-zA-Z][a-z-]*' | tr -d ' [' | sort -u); do
                expect_true "tags '$MAN/hepctl.8' | grep -qE -- '(^|[^a-z-])$o([^a-z-]|\$)'" "hepctl(8) documents $c $o"
        done
done

# hepctl(8)'s Kinds: every kind name and alias hepctl accepts (policy/kinds.c).
aliases=$(sed -n '/_aliases\[\] = {/,/NULL };/p' "$SRCDIR/policy/kinds.c" | grep -o '"[a-z]*"' | tr -d '"' | sort -u)
expect_true "[ \$(printf '%s\\n' '$aliases' | wc -l) -ge 20 ]" "policy/kinds.c's aliases are found"
kinds_section=$(plain "$MAN/hepctl.8" | sed -n '/^\.SS Kinds/,/^\.S[HS] /p')
for k in $aliases; do
        expect_true "printf '%s\\n' \"\$kinds_section\" | grep -qw -- '$k'" "hepctl(8) lists the kind alias $k"
done

# hostendpoint-dbus(7): every method, property and signal of the XML, as
# the tag of a paragraph (.TP) in the section of its interface.
run python3 - "$SRCDIR/dbus/org.projectcalico.HostEndpoint1.xml" <(plain "$MAN/hostendpoint-dbus.7") <<'PY'
import re, sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
members = [(i.get('name'), m.tag, m.get('name'))
           for i in root.iter('interface') for m in i if m.tag in ('method', 'property', 'signal')]
if len(members) < 20:
    sys.exit(f'only {len(members)} members found in the XML')
# Tags of .TP paragraphs, by the section (.SH) they are in.
tags, section, lines = {}, '', open(sys.argv[2]).read().split('\n')
for k, line in enumerate(lines):
    if line.startswith('.SH '):
        section = line[4:].strip().strip('"')
    elif line == '.TP' and k + 1 < len(lines):
        tags.setdefault(section, set()).update(re.findall(r'[A-Za-z_.]+', lines[k + 1]))
missing = 0
for iface, kind, name in members:
    where = 'SIGNALS' if kind == 'signal' else 'INTERFACE ' + iface
    words = tags.get(where, set())
    if name in words or iface + '.' + name in words:
        print(f'ok - {kind} {iface}.{name} is documented in section {where}')
    else:
        print(f'not ok - {kind} {iface}.{name} is not documented in section {where}')
        missing += 1
print(f'{len(members)} members, {missing} missing')
sys.exit(1 if missing else 0)
PY
printf '%s\n' "$OUT"
expect_rc 0 "hostendpoint-dbus(7) documents every method, property and signal of the introspection XML"
for s in InterfacesAdded InterfacesRemoved PropertiesChanged; do
        expect_true "plain '$MAN/hostendpoint-dbus.7' | sed -n '/^\\.SH SIGNALS/,/^\\.SH /p' | grep -q '$s'" \
                "hostendpoint-dbus(7) documents the signal $s"
done
# Every error the service sends (BUS_ERROR("Name") in dbus/).
errors=$(grep -ohE 'BUS_ERROR\("[A-Za-z]+"\)' "$SRCDIR"/dbus/*.c | sed 's/.*("\(.*\)")/\1/' | sort -u)
expect_true "[ \$(printf '%s\\n' '$errors' | wc -w) -ge 5 ]" "the service's errors are found in dbus/"
for e in $errors; do
        expect_true "plain '$MAN/hostendpoint-dbus.7' | sed -n '/^\\.SH ERRORS/,/^\\.SH /p' | grep -qw '$e'" \
                "hostendpoint-dbus(7) documents the error $e"
done
