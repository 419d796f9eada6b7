/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A resource at its key in Calico's etcd v3 layout, both ways: the key
 * /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>,
 * and the value, the compact JSON calicoctl writes (resourceVersion left
 * out: the key's mod_revision is the version). No I/O: what etcd holds
 * comes in as bytes, so this is also what the etcd-value fuzzer calls. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "loader.h"
#include "parse.h"

#define ETCD_PREFIX "/calico/resources/v3/projectcalico.org/"
#define ETCD_PREFIX_END "/calico/resources/v3/projectcalico.org0" /* '/' + 1 */

/* The key of a resource; NULL on ENOMEM. */
char *etcd_resource_key(ResourceKind kind, const char *ns, const char *name);

/* The value at key (value_len bytes, NUL-terminated) as exactly one valid
 * resource, of the kind, namespace and name the key says, with
 * mod_revision as its resourceVersion. 0 and *ret; -EINVAL with e set
 * (its file is the key); -ENOMEM. */
int etcd_value_decode(const char *key, const char *value, size_t value_len, int64_t mod_revision, Resource **ret,
                      ParseError *e);

/* The value calicoctl would write for r; 0 or -ENOMEM. */
int etcd_value_encode(const Resource *r, char **ret);
