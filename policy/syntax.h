/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Primitive syntax checks for names, interfaces, ports, label keys and values,
 * matching Calico v3.32's validator and the Kubernetes apimachinery v0.35
 * helpers it calls, byte for byte, including the error texts they report. */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* Calico's nameLabelFmt [a-z0-9]([-a-z0-9]*[a-z0-9])?; no length limit. */
bool syntax_is_dns_label(const char *s) _pure_;
/* label(.label)*; the 253-byte limit is checked separately. */
bool syntax_is_resource_name(const char *s) _pure_;
/* (label.)?label (v3.29+); length checked separately. */
bool syntax_is_gnp_name(const char *s) _pure_;
/* label, at most 63 bytes. */
bool syntax_is_tier_name(const char *s) _pure_;
/* A Kubernetes namespace: an RFC 1123 label of at most 63 bytes. Calico
 * leaves it to the API server; we check it before it names a file. */
bool syntax_is_namespace(const char *s) _pure_;
/* label, label.label, knp.default.<resource-name> or ossg.default.<resource-name>;
 * length checked separately. */
bool syntax_is_np_name(const char *s) _pure_;
/* "*" or [a-zA-Z0-9_.-]{1,15}. */
bool syntax_is_interface_name(const char *s) _pure_;
/* IANA service name as Kubernetes IsValidPortName plus non-empty. */
bool syntax_is_port_name(const char *s) _pure_;
/* [a-zA-Z0-9_.-]{1,128}: what numorstring accepts when decoding a port name. */
bool syntax_is_named_port_decode(const char *s) _pure_;

/* The checks below return 0 if valid. Otherwise they return -EINVAL and, if
 * ret_msg is non-NULL, store a malloc'd string holding the messages Go
 * reports, one per line ('\n' between them, none at the end), in Go's order.
 * Calico turns each line into one errored field. *ret_msg is set to NULL on
 * success. -ENOMEM if the message could not be built. */

/* Kubernetes IsQualifiedName (label key): [prefix/]name. */
int syntax_check_label_key(const char *key, char **ret_msg);
/* Kubernetes IsValidLabelValue. */
int syntax_check_label_value(const char *value, char **ret_msg);
/* Calico checks annotation keys with IsQualifiedName after strings.ToLower. */
int syntax_check_annotation_key(const char *key, char **ret_msg);

/* metadata.name as Calico's validator reports it for the given kind (see the
 * table at the top of syntax.c). Kinds other than Tier, GlobalNetworkPolicy
 * and NetworkPolicy get only the generic ObjectMeta rule. */
int syntax_check_resource_name(const char *kind, const char *name, char **ret_msg);
