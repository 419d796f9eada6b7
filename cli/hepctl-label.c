/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl label: calicoctl's label command (calicoctl/commands/label.go in
 * Calico v3.32), its messages and exit codes. The resource is read, its
 * labels changed, and it is written back with the resourceVersion that
 * was read, through the client layer as replace writes: a change made in
 * between is an update conflict (compare-and-swap), never overwritten.
 * Messages name the kind and the name as the user typed them, as
 * calicoctl's do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "hepctl.h"

typedef enum LabelChange {
        LABEL_SET,
        LABEL_UPDATED,
        LABEL_REMOVED,
} LabelChange;

/* The resource to label. calicoctl reports a resource its get did not
 * return as not found, and that includes a namespace given for a kind
 * that has none (its get fails on that, and the error is dropped). */
static int label_read(Datastore *ds, const HepctlArgs *a, Resource **ret) {
        const char *name = a->names[0];
        _cleanup_free_ char *err = NULL;
        int r;

        if (a->ns && !a->kind->namespaced)
                r = STORE_NOT_FOUND;
        else
                r = client_get(ds, a->kind->kind, a->ns, name, ret, &err);
        if (r == STORE_NOT_FOUND)
                hepctl_error("%s %s not found", a->kind_word, name);
        else if (r != 0)
                hepctl_error("failed to get %s %s, error %s", a->kind_word, name, err ? err : store_strerror(r));
        return r;
}

/* The change calicoctl makes to the labels, or its refusal: a key to
 * remove must be there; a key to set may be there only with --overwrite,
 * or with the same value. */
static int label_change(const HepctlArgs *a, Labels *l, LabelChange *ret) {
        const char *kind = a->kind_word, *name = a->names[0], *key = a->label_key;
        const char *old = labels_get(l, key);

        if (a->remove) {
                if (!old) {
                        hepctl_error("cannot remove label of %s %s, key %s does not exist", kind, name, key);
                        return -ENOENT;
                }
                *ret = LABEL_REMOVED;
                return labels_remove(l, key);
        }
        if (old && !a->overwrite && !streq(old, a->label_value)) {
                hepctl_error("failed to update label of %s %s, key %s is already present. please use '--overwrite' "
                             "to set a new value",
                             kind, name, key);
                return -EEXIST;
        }
        *ret = old ? LABEL_UPDATED : LABEL_SET;
        return labels_set(l, key, a->label_value);
}

int hepctl_label(const HepctlArgs *a) {
        _cleanup_(datastore_freep) Datastore *ds = NULL;
        _cleanup_(resource_freep) Resource *res = NULL;
        _cleanup_free_ char *err = NULL;
        const char *kind = a->kind_word, *name = a->names[0], *key = a->label_key;
        LabelChange change;
        int r;

        if (hepctl_open_datastore(&a->global, &ds) < 0)
                return HEPCTL_FAIL;
        if (label_read(ds, a, &res) != 0)
                return HEPCTL_FAIL;
        r = label_change(a, &res->meta.labels, &change);
        if (r == -ENOMEM)
                hepctl_error("%s", strerror(-r));
        if (r < 0)
                return HEPCTL_FAIL;
        /* res keeps the resourceVersion it was read with: the update
         * compares it with the stored one. */
        r = client_execute(ds, CLIENT_REPLACE, res, NULL, &err);
        if (r != 0) {
                /* calicoctl's words, then why: calicoctl drops the reason. */
                hepctl_error("failed to update %s %s, label not changed", kind, name);
                hepctl_error("%s", err ? err : store_strerror(r));
                return HEPCTL_FAIL;
        }
        if (change == LABEL_REMOVED)
                printf("Successfully removed label %s from %s %s\n", key, kind, name);
        else if (change == LABEL_UPDATED)
                printf("Successfully updated label %s on %s %s\n", key, kind, name);
        else
                printf("Successfully set label %s on %s %s\n", key, kind, name);
        return HEPCTL_OK;
}
