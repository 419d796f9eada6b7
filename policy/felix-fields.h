/* FelixConfiguration spec fields that hostendpoint accepts and keeps but
 * does not act on (it uses only the failsafe ports and interfaceExclude).
 * Names as in Calico's FelixConfigurationSpec JSON tags. */
#pragma once

static const char *const felix_other_fields[] = {
        "logSeverityScreen",
        "logSeverityFile",
        "logSeveritySys",
        NULL,
};
