/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Calico v3.32.1 resource validation: what libcalico-go's validator (field
 * tags, struct-level checks) and the CRD schema + CEL rules it runs
 * client-side would report for a resource, in calicoctl's words and order.
 * Validation only reads the resource; defaulting is a separate step. */
#pragma once

#include <stddef.h>

#include "resource.h"

/* One errored field, as libcalico-go's ErroredField prints it:
 *   "<field> = '<value>' (<reason>)"
 * value NULL means Go's nil value (printed as "<field> (<reason>)", the form
 * of CRD/CEL errors and of Metadata.Namespace). field NULL marks a plain
 * error that calicoctl prints on its own, without "error with field"
 * (the namespace-on-a-cluster-scoped-kind refusal). */
typedef struct FieldError {
        char *path;   /* JSON path into the document, e.g. "spec.ingress[0].source.nets[1]" */
        char *field;  /* Calico's field name, e.g. "Nets[0]", "Metadata.Name", "spec.node" */
        char *value;  /* the value as Go's %v prints it, or NULL */
        char *reason; /* e.g. "Reason: failed to validate Field: Nets[0] because of Tag: net " */
} FieldError;

typedef struct ValidationErrors {
        FieldError *v;
        size_t n, alloc;
} ValidationErrors;

/* Returns 0 if r is valid, -EINVAL with *ret filled (appended to) if not,
 * -ENOMEM on allocation failure. Does not modify r and does not default it:
 * callers run policy_spec_default_types() / tier_spec_default() first, as
 * libcalico-go's client does before it validates. */
int resource_validate(const Resource *r, ValidationErrors *ret);

/* Exactly Calico's ErrorValidation text: "error with field X = 'v' (reason)"
 * for one error, "error with the following fields:\n-  X = 'v' (reason)\n..."
 * for several, the bare message for a plain error. NULL on allocation
 * failure. */
char *validation_errors_format(const ValidationErrors *e);
void validation_errors_done(ValidationErrors *e);

/* GNP/NP defaulting of spec.types (libcalico-go defaults.Default): when
 * empty, [Ingress] if there are no egress rules, [Egress] if there are
 * egress rules but no ingress rules, else [Ingress, Egress]. Returns 0 or
 * -ENOMEM (then types is left empty). */
int policy_spec_default_types(PolicySpec *s);

/* Tier defaulting (libcalico-go DefaultTierFields): order 1000000 and
 * defaultAction "Deny" when absent. Returns 0 or -ENOMEM. */
int tier_spec_default(TierSpec *s);

/* Calico's ProtoPort struct check ("ProtoPort.Protocol ... must be 'TCP' or
 * 'UDP' or 'SCTP'."). resource_validate() does not call it: in v3.32.1 the
 * validator never reaches the failsafe port lists (their field carries no
 * "dive" tag), so Calico accepts any protocol there. Offered for code that
 * wants to use the entries. Returns 0 or -EINVAL/-ENOMEM like
 * resource_validate(); path is the JSON path of the entry. */
int proto_port_validate(const ProtoPort *p, const char *path, ValidationErrors *ret);
