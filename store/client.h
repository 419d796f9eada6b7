/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operations calicoctl performs through libcalico-go's client, on our
 * datastore: metadata handling, defaulting, validation, built-in resources
 * (the default-allow profile and the built-in tiers) and Calico's error
 * texts. hepctl and the D-Bus Apply/Delete methods both go through here,
 * so they accept and refuse exactly the same things. */
#pragma once

#include "datastore.h"
#include "resource.h"

typedef enum ClientAction {
        CLIENT_CREATE,
        CLIENT_APPLY,
        CLIENT_REPLACE,
        CLIENT_DELETE,
        _CLIENT_ACTION_MAX,
        _CLIENT_ACTION_INVALID = -EINVAL,
} ClientAction;

#define DEFAULT_ALLOW_PROFILE "projectcalico-default-allow"

/* Performs one action on one resource read from a file (or built by the
 * caller). Returns 0 (*ret, optional, is the stored resource), a
 * StoreOutcome (exists, not found, conflict, not editable, busy), or
 * -EOPNOTSUPP (Calico refuses the operation), -EINVAL (validation) or
 * another -errno; on failure *ret_error holds Calico's message. */
int client_execute(Datastore *ds, ClientAction action, const Resource *input, Resource **ret, char **ret_error);
int client_delete_by_name(Datastore *ds, ResourceKind kind, const char *ns, const char *name, Resource **ret,
                          char **ret_error);

/* All resources of a kind (namespace NULL = all namespaces), including the
 * built-in ones Calico returns, sorted as calicoctl lists them. The
 * resources are copies owned by ret. */
int client_list(Datastore *ds, ResourceKind kind, const char *ns, ResourceList *ret);
int client_get(Datastore *ds, ResourceKind kind, const char *ns, const char *name, Resource **ret,
               char **ret_error);
