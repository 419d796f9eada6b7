/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hepctl version: calicoctl's first two lines. calicoctl then reads the
 * cluster's ClusterInformation; a hostendpoint datastore holds none, so
 * there is nothing more to say. */
#include <stdio.h>

#include "config.h"
#include "hepctl-revision.h"
#include "hepctl.h"

int hepctl_version(const HepctlArgs *a) {
        (void)a;
        printf("Client Version:    %s\n", HEP_VERSION);
        printf("Git commit:        %s\n", HEP_GIT_REVISION);
        return HEPCTL_OK;
}
