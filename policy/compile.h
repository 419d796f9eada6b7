/* Calculation → nftables ruleset (the IR of ruleset.h). Pure: no I/O. */
#pragma once

#include "calc.h"
#include "ruleset.h"

int ruleset_compile(const Calc *calc, Ruleset **ret);
