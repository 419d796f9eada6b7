/* SPDX-License-Identifier: GPL-2.0-or-later */
/* FelixConfiguration's spec fields, one row each, in the Go field order of
 * Calico v3.32's FelixConfigurationSpec: the JSON name, the Go name Calico's
 * messages use, what libcalico-go's validate tag and the CRD schema require
 * of a value, and whether schema.c decodes the field or keeps it verbatim
 * (hostendpoint decodes the failsafe ports and interfaceExclude; calc.c
 * reads a few kept ones and reports every other one that is set).
 * validate.c reports from these rows; the checks that span fields
 * (validateFelixConfigSpec(), the CEL rules) and the CRD's few one-off
 * patterns stay there. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a validate tag requires of the value. */
typedef enum FelixRule {
        FELIX_NONE,            /* no tag */
        FELIX_ONE_OF,          /* values: exact alternatives (regex tags, oneof) */
        FELIX_KEY_VALUES,      /* keyValueList */
        FELIX_REGEXP,          /* must compile as a Go regexp */
        FELIX_CHARS,           /* values: allowed bytes; max: length */
        FELIX_INTERFACE,       /* "*" or an interface name */
        FELIX_INT,             /* min/max with their tags */
        FELIX_CIDRS,           /* list: each ParseCIDROrIP */
        FELIX_IFACE_FILTERS,   /* list: each like FELIX_CHARS */
        FELIX_LOG_FILTERS,     /* map: keys like FELIX_CHARS (interface names) */
        FELIX_PORTS,           /* list of numorstring.Port */
        FELIX_ROUTE_TABLE_IDS, /* list of {min, max} (RouteTableIDRange) */
        FELIX_ROUTE_TABLE,     /* {min, max} (RouteTableRange) */
        FELIX_HEALTH,          /* list of {name, timeout} */
        _FELIX_RULE_MAX,
        _FELIX_RULE_INVALID = -EINVAL,
} FelixRule;

typedef struct FelixField {
        const char *json;
        const char *go;       /* where Calico's messages name the field, else NULL */
        bool typed;           /* decoded into FelixConfigurationSpec, not kept in spec.felix.other */
        /* libcalico-go's validate tag */
        FelixRule rule;
        const char *tag;      /* the tag Calico names in the error */
        const char *values;   /* FELIX_ONE_OF: space-separated; FELIX_CHARS and the like: the alphabet */
        bool pointer;         /* a *T field: an explicit "" is checked, not skipped */
        const char *min_tag, *max_tag;
        int64_t min, max;
        /* The CRD schema's alternatives, space-separated: an enum (exact),
         * and a "^(?i)(A|B)?$" pattern (any case, or empty). */
        const char *crd_enum, *crd_ci;
} FelixField;

extern const FelixField felix_fields[];
extern const size_t n_felix_fields;

/* The row of a JSON name as written in the table, or NULL. */
const FelixField *felix_field(const char *json);
/* Whether schema.c keeps a spec key verbatim: a field of the table that it
 * does not decode, matched without regard to case as Go's JSON decoder
 * matches names. */
bool felix_field_kept(const char *key);
/* The rows with CRD alternatives, in the CRD's property order (by name):
 * the first (prev NULL) or the one after prev; NULL at the end. */
const FelixField *felix_crd_next(const FelixField *prev);

/* Whether a string passes f's tag rule: the value for FELIX_ONE_OF,
 * FELIX_KEY_VALUES, FELIX_REGEXP, FELIX_CHARS and FELIX_INTERFACE; one
 * item for FELIX_CIDRS and FELIX_IFACE_FILTERS; one key for
 * FELIX_LOG_FILTERS. Other rules check structure, not strings: true. */
bool felix_value_valid(const FelixField *f, const char *s);
/* Whether word is one of the space-separated alternatives: exactly; or,
 * as the CRD's (?i) patterns, in any case (or word is empty). */
bool felix_one_of(const char *word, const char *alternatives);
bool felix_one_of_ci(const char *word, const char *alternatives);

/* Interface names as Felix's tags allow them (and, without '.', health
 * timeout override names). */
#define FELIX_IFNAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
