/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Introspection data, from org.projectcalico.HostEndpoint1.xml (embedded
 * at build time) and the standard interfaces every object has. */
#pragma once

#include "strbuf.h"

extern const char introspection_xml[]; /* the whole file */
extern const char introspection_standard_interfaces[];
extern const char introspection_object_manager[];

/* Appends the <interface> element named name, as written in the file. */
void introspection_append_interface(const char *name, StrBuf *out);
