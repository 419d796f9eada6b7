/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Benchmark input: resources parsed and checked from YAML text, sorted by
 * kind and name as the datastore hands them over. */
#pragma once

#include "loader.h"

/* 0, or -1 after printing the error. */
int bench_load_resources(const char *text, ResourceList *l);
