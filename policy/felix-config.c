/* SPDX-License-Identifier: GPL-2.0-or-later */
/* FelixConfiguration's fields (felix-config.h), and the checks of their
 * string values: Go's regexp syntax, keyValueList, alphabets and
 * alternatives. Sources: Calico v3.32 api/pkg/apis/projectcalico/v3/
 * felixconfig.go (field order, JSON and Go names, validate tags),
 * libcalico-go's validator (the tags), and the FelixConfiguration CRD
 * (enums and patterns). */
#include "felix-config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ipaddr.h"
#include "macro.h"
#include "syntax.h"

#define IFFILTER_CHARS FELIX_IFNAME_CHARS ":+"

/* Rows: KEPT (kept verbatim, no tag), FIELD (with the Go name Calico's
 * messages use, and any attributes), TYPED (decoded by schema.c), one
 * macro per kind of validate tag; CRD_ENUM and CRD_CI add the CRD's
 * alternatives. */
#define FIELD(j, g, ...) { .json = j, .go = g, __VA_ARGS__ }
#define KEPT(j, ...) { .json = j, __VA_ARGS__ }
#define TYPED(j, g) { .json = j, .go = g, .typed = true }
#define RULE_OF(j, g, r, t, ...) { .json = j, .go = g, .rule = r, .tag = t, __VA_ARGS__ }
#define ONE_OF(j, g, t, v, ...) { .json = j, .go = g, .rule = FELIX_ONE_OF, .tag = t, .values = v, __VA_ARGS__ }
#define ONE_OF_PTR(j, g, v, ...) \
        { .json = j, .go = g, .rule = FELIX_ONE_OF, .tag = "oneof", .values = v, .pointer = true, __VA_ARGS__ }
#define CHARS(j, g, t, alphabet, n) { .json = j, .go = g, .rule = FELIX_CHARS, .tag = t, .values = alphabet, .max = n }
#define INT_RANGE(j, g, lo_tag, lo, hi_tag, hi) \
        { .json = j, .go = g, .rule = FELIX_INT, .min_tag = lo_tag, .min = lo, .max_tag = hi_tag, .max = hi }
#define CRD_ENUM(v) .crd_enum = v
#define CRD_CI(v) .crd_ci = v

const FelixField felix_fields[] = {
        KEPT("nodeSelector"),
        KEPT("useInternalDataplaneDriver"),
        KEPT("dataplaneDriver"),
        KEPT("dataplaneWatchdogTimeout"),
        KEPT("ipv6Support"),
        KEPT("routeRefreshInterval"),
        KEPT("interfaceRefreshInterval"),
        KEPT("iptablesRefreshInterval"),
        KEPT("iptablesPostWriteCheckInterval"),
        KEPT("iptablesLockProbeInterval"),
        RULE_OF("featureDetectOverride", "FeatureDetectOverride", FELIX_KEY_VALUES, "keyValueList"),
        RULE_OF("featureGates", "FeatureGates", FELIX_KEY_VALUES, "keyValueList"),
        KEPT("ipsetsRefreshInterval"),
        KEPT("maxIpsetSize"),
        FIELD("iptablesBackend", "IptablesBackend", .rule = FELIX_ONE_OF, .tag = "iptablesBackend",
              .values = " Auto NFT Legacy", .pointer = true, CRD_ENUM("Legacy NFT Auto"), CRD_CI("Auto Legacy NFT")),
        KEPT("xdpRefreshInterval"),
        KEPT("netlinkTimeout"),
        KEPT("metadataAddr"),
        KEPT("metadataPort"),
        FIELD("openstackRegion", "OpenstackRegion"),
        KEPT("interfacePrefix"),
        TYPED("interfaceExclude", "InterfaceExclude"),
        KEPT("chainInsertMode", CRD_CI("Insert Append")),
        ONE_OF("defaultEndpointToHostAction", "DefaultEndpointToHostAction", "dropAcceptReturn", "Drop Accept Return",
               CRD_CI("Drop Accept Return")),
        ONE_OF("iptablesFilterAllowAction", "IptablesFilterAllowAction", "acceptReturn", "Accept Return",
               CRD_CI("Accept Return")),
        ONE_OF("iptablesMangleAllowAction", "IptablesMangleAllowAction", "acceptReturn", "Accept Return",
               CRD_CI("Accept Return")),
        ONE_OF("iptablesFilterDenyAction", "IptablesFilterDenyAction", "dropReject", "Drop Reject",
               CRD_CI("Drop Reject")),
        KEPT("logPrefix"),
        KEPT("logActionRateLimit"),
        KEPT("logActionRateLimitBurst"),
        KEPT("logFilePath"),
        ONE_OF("logSeverityFile", "LogSeverityFile", "logLevel", "Trace Debug Info Warning Error Fatal",
               CRD_CI("Trace Debug Info Warning Error Fatal")),
        ONE_OF("logSeverityScreen", "LogSeverityScreen", "logLevel", "Trace Debug Info Warning Error Fatal",
               CRD_CI("Trace Debug Info Warning Error Fatal")),
        ONE_OF("logSeveritySys", "LogSeveritySys", "logLevel", "Trace Debug Info Warning Error Fatal",
               CRD_CI("Trace Debug Info Warning Error Fatal")),
        RULE_OF("logDebugFilenameRegex", "LogDebugFilenameRegex", FELIX_REGEXP, "regexp"),
        KEPT("ipipEnabled"),
        KEPT("ipipMTU"),
        KEPT("vxlanEnabled"),
        KEPT("vxlanMTU"),
        KEPT("vxlanMTUV6"),
        KEPT("vxlanPort"),
        KEPT("vxlanVNI"),
        KEPT("allowVXLANPacketsFromWorkloads"),
        KEPT("allowIPIPPacketsFromWorkloads"),
        KEPT("reportingInterval"),
        KEPT("reportingTTL"),
        KEPT("endpointReportingEnabled"),
        KEPT("endpointReportingDelay"),
        KEPT("endpointStatusPathPrefix"),
        KEPT("iptablesMarkMask"),
        KEPT("disableConntrackInvalidCheck"),
        KEPT("healthEnabled"),
        KEPT("healthHost"),
        KEPT("healthPort"),
        RULE_OF("healthTimeoutOverrides", "HealthTimeoutOverrides", FELIX_HEALTH, NULL),
        KEPT("prometheusMetricsEnabled"),
        CHARS("prometheusMetricsHost", "PrometheusMetricsHost", "prometheusHost", IFFILTER_CHARS, 64),
        KEPT("prometheusMetricsPort"),
        KEPT("prometheusGoMetricsEnabled"),
        KEPT("prometheusProcessMetricsEnabled"),
        KEPT("prometheusWireGuardMetricsEnabled"),
        KEPT("prometheusMetricsCAFile"),
        KEPT("prometheusMetricsCertFile"),
        KEPT("prometheusMetricsKeyFile"),
        ONE_OF_PTR("prometheusMetricsClientAuth", "PrometheusMetricsClientAuth",
                   "RequireAndVerifyClientCert RequireAnyClientCert VerifyClientCertIfGiven NoClientCert"),
        TYPED("failsafeInboundHostPorts", "FailsafeInboundHostPorts"),
        TYPED("failsafeOutboundHostPorts", "FailsafeOutboundHostPorts"),
        RULE_OF("kubeNodePortRanges", "KubeNodePortRanges", FELIX_PORTS, NULL),
        KEPT("policySyncPathPrefix"),
        KEPT("usageReportingEnabled"),
        KEPT("usageReportingInitialDelay"),
        KEPT("usageReportingInterval"),
        KEPT("natPortRange"),
        FIELD("natOutgoingAddress", "NATOutgoingAddress"),
        ONE_OF_PTR("natOutgoingExclusions", "NATOutgoingExclusions", "IPPoolsOnly IPPoolsAndHostIPs",
                   CRD_ENUM("IPPoolsOnly IPPoolsAndHostIPs")),
        FIELD("deviceRouteSourceAddress", "DeviceRouteSourceAddress"),
        FIELD("deviceRouteSourceAddressIPv6", "DeviceRouteSourceAddressIPv6"),
        KEPT("deviceRouteProtocol"),
        KEPT("removeExternalRoutes"),
        KEPT("programClusterRoutes", CRD_ENUM("Enabled Disabled")),
        KEPT("ipForwarding", CRD_ENUM("Enabled Disabled")),
        FIELD("externalNodesList", "ExternalNodesCIDRList"),
        KEPT("debugMemoryProfilePath"),
        KEPT("debugDisableLogDropping"),
        KEPT("debugSimulateCalcGraphHangAfter"),
        KEPT("debugSimulateDataplaneHangAfter"),
        KEPT("debugSimulateDataplaneApplyDelay"),
        KEPT("debugHost"),
        INT_RANGE("debugPort", "DebugPort", "gte", 0, "lte", 65535),
        CHARS("iptablesNATOutgoingInterfaceFilter", "IptablesNATOutgoingInterfaceFilter", "ifaceFilter",
              IFFILTER_CHARS, 15),
        KEPT("sidecarAccelerationEnabled"),
        KEPT("xdpEnabled"),
        KEPT("genericXDPEnabled"),
        KEPT("nftablesMode", CRD_ENUM("Disabled Enabled Auto")),
        KEPT("nftablesRefreshInterval"),
        ONE_OF("nftablesFilterAllowAction", "NftablesFilterAllowAction", "acceptReturn", "Accept Return",
               CRD_CI("Accept Return")),
        ONE_OF("nftablesMangleAllowAction", "NftablesMangleAllowAction", "acceptReturn", "Accept Return",
               CRD_CI("Accept Return")),
        ONE_OF("nftablesFilterDenyAction", "NftablesFilterDenyAction", "dropReject", "Drop Reject",
               CRD_CI("Drop Reject")),
        KEPT("nftablesMarkMask"),
        KEPT("bpfEnabled"),
        KEPT("bpfDisableUnprivileged"),
        ONE_OF_PTR("bpfJITHardening", "BPFJITHardening", "Auto Strict"),
        ONE_OF("bpfLogLevel", "BPFLogLevel", "bpfLogLevel", "Debug Info Off", CRD_CI("Off Info Debug")),
        ONE_OF("bpfConntrackLogLevel", "BPFConntrackLogLevel", "oneof", "Off Debug", CRD_ENUM("Off Debug")),
        ONE_OF_PTR("bpfConntrackMode", "BPFConntrackCleanupMode", "Auto Userspace BPFProgram",
                   CRD_ENUM("Auto Userspace BPFProgram")),
        KEPT("bpfConntrackTimeouts"),
        RULE_OF("bpfLogFilters", "BPFLogFilters", FELIX_LOG_FILTERS, "bpfLogFilters", .values = FELIX_IFNAME_CHARS,
                .max = 15),
        KEPT("bpfCTLBLogFilter"),
        RULE_OF("bpfDataIfacePattern", "BPFDataIfacePattern", FELIX_REGEXP, "regexp"),
        RULE_OF("bpfL3IfacePattern", "BPFL3IfacePattern", FELIX_REGEXP, "regexp"),
        KEPT("bpfConnectTimeLoadBalancingEnabled"),
        ONE_OF_PTR("bpfConnectTimeLoadBalancing", "BPFConnectTimeLoadBalancing", "TCP Enabled Disabled",
                   CRD_ENUM("TCP Enabled Disabled")),
        ONE_OF_PTR("bpfHostNetworkedNATWithoutCTLB", "BPFHostNetworkedNATWithoutCTLB", "Enabled Disabled",
                   CRD_ENUM("Enabled Disabled")),
        ONE_OF("bpfExternalServiceMode", "BPFExternalServiceMode", "bpfServiceMode", "Tunnel DSR",
               CRD_CI("Tunnel DSR")),
        RULE_OF("bpfDSROptoutCIDRs", "BPFDSROptoutCIDRs", FELIX_CIDRS, "cidrs"),
        INT_RANGE("bpfExtToServiceConnmark", "BPFExtToServiceConnmark", "gte", 0, "lte", 4294967295LL),
        KEPT("bpfKubeProxyIptablesCleanupEnabled"),
        KEPT("bpfKubeProxyMinSyncPeriod"),
        INT_RANGE("bpfKubeProxyHealthzPort", "BPFKubeProxyHealthzPort", "gte", 0, "lte", 65535),
        KEPT("bpfPSNATPorts"),
        KEPT("bpfMapSizeNATFrontend"),
        KEPT("bpfMapSizeNATBackend"),
        KEPT("bpfMapSizeNATAffinity"),
        KEPT("bpfMapSizeRoute"),
        KEPT("bpfMapSizeConntrack"),
        KEPT("bpfMapSizePerCpuConntrack"),
        KEPT("bpfMapSizeConntrackScaling", CRD_CI("Disabled DoubleIfFull")),
        INT_RANGE("bpfMapSizeConntrackCleanupQueue", "BPFMapSizeConntrackCleanupQueue", "gte", 1, NULL, 0),
        KEPT("bpfMapSizeIPSets"),
        KEPT("bpfMapSizeIfState"),
        KEPT("bpfHostConntrackBypass"),
        KEPT("bpfEnforceRPF", CRD_CI("Disabled Strict Loose")),
        KEPT("bpfPolicyDebugEnabled"),
        RULE_OF("bpfForceTrackPacketsFromIfaces", "BPFForceTrackPacketsFromIfaces", FELIX_IFACE_FILTERS,
                "ifaceFilterSlice", .values = IFFILTER_CHARS, .max = 15),
        RULE_OF("bpfDisableGROForIfaces", "BPFDisableGROForIfaces", FELIX_REGEXP, "regexp"),
        RULE_OF("bpfExcludeCIDRsFromNAT", "BPFExcludeCIDRsFromNAT", FELIX_CIDRS, "cidrs"),
        KEPT("bpfExportBufferSizeMB"),
        KEPT("istioAmbientMode", CRD_ENUM("Enabled Disabled")),
        KEPT("istioDSCPMark"),
        KEPT("cgroupV2Path"),
        KEPT("flowLogsPolicyEvaluationMode", CRD_ENUM("None Continuous")),
        KEPT("bpfRedirectToPeer", CRD_ENUM("Enabled Disabled")),
        ONE_OF_PTR("bpfAttachType", "BPFAttachType", "TC TCX", CRD_ENUM("TC TCX")),
        KEPT("flowLogsFlushInterval"),
        KEPT("flowLogsCollectorDebugTrace"),
        KEPT("flowLogsGoldmaneServer"),
        KEPT("flowLogsLocalReporter", CRD_ENUM("Disabled Enabled")),
        KEPT("bpfProfiling", CRD_ENUM("Enabled Disabled")),
        RULE_OF("routeSource", "RouteSource", FELIX_REGEXP, "routeSource", CRD_CI("WorkloadIPs CalicoIPAM")),
        RULE_OF("routeTableRanges", "RouteTableRanges", FELIX_ROUTE_TABLE_IDS, NULL),
        RULE_OF("routeTableRange", "RouteTableRange", FELIX_ROUTE_TABLE, NULL),
        KEPT("routeSyncDisabled"),
        INT_RANGE("ipv4NormalRoutePriority", "IPv4NormalRoutePriority", "gte", 1, "lte", 2147483646),
        INT_RANGE("ipv4ElevatedRoutePriority", "IPv4ElevatedRoutePriority", "gte", 1, "lte", 2147483646),
        INT_RANGE("ipv6NormalRoutePriority", "IPv6NormalRoutePriority", "gte", 1, "lte", 2147483646),
        INT_RANGE("ipv6ElevatedRoutePriority", "IPv6ElevatedRoutePriority", "gte", 1, "lte", 2147483646),
        KEPT("liveMigrationRouteConvergenceTime"),
        KEPT("wireguardEnabled"),
        KEPT("wireguardEnabledV6"),
        KEPT("wireguardThreadingEnabled"),
        INT_RANGE("wireguardListeningPort", "WireguardListeningPort", "gt", 0, "lte", 65535),
        INT_RANGE("wireguardListeningPortV6", "WireguardListeningPortV6", "gt", 0, "lte", 65535),
        INT_RANGE("wireguardRoutingRulePriority", "WireguardRoutingRulePriority", "gt", 0, "lt", 32766),
        RULE_OF("wireguardInterfaceName", "WireguardInterfaceName", FELIX_INTERFACE, "interface"),
        RULE_OF("wireguardInterfaceNameV6", "WireguardInterfaceNameV6", FELIX_INTERFACE, "interface"),
        KEPT("wireguardMTU"),
        KEPT("wireguardMTUV6"),
        KEPT("wireguardHostEncryptionEnabled"),
        KEPT("wireguardKeepAlive"),
        ONE_OF_PTR("awsSrcDstCheck", "AWSSrcDstCheck", "DoNothing Enable Disable",
                   CRD_ENUM("DoNothing Enable Disable")),
        ONE_OF("serviceLoopPrevention", "ServiceLoopPrevention", "oneof", "Drop Reject Disabled",
               CRD_CI("Drop Reject Disabled")),
        ONE_OF("workloadSourceSpoofing", "WorkloadSourceSpoofing", "oneof", "Disabled Any", CRD_CI("Disabled Any")),
        RULE_OF("mtuIfacePattern", "MTUIfacePattern", FELIX_REGEXP, "regexp"),
        KEPT("floatingIPs", CRD_ENUM("Enabled Disabled")),
        ONE_OF_PTR("windowsManageFirewallRules", "WindowsManageFirewallRules", "Enabled Disabled",
                   CRD_ENUM("Enabled Disabled")),
        INT_RANGE("goGCThreshold", "GoGCThreshold", "gte", -1, NULL, 0),
        INT_RANGE("goMemoryLimitMB", "GoMemoryLimitMB", "gte", -1, NULL, 0),
        INT_RANGE("goMaxProcs", "GoMaxProcs", "gte", -1, NULL, 0),
        KEPT("requireMTUFile"),
        INT_RANGE("bpfMaglevMaxEndpointsPerService", "BPFMaglevMaxEndpointsPerService", "gt", 0, "lte", 3000),
        INT_RANGE("bpfMaglevMaxServices", "BPFMaglevMaxServices", "gt", 0, "lte", 3000),
};

const size_t n_felix_fields = ELEMENTSOF(felix_fields);

const FelixField *felix_field(const char *json) {
        for (size_t i = 0; i < n_felix_fields; i++)
                if (streq(felix_fields[i].json, json))
                        return &felix_fields[i];
        return NULL;
}

bool felix_field_kept(const char *key) {
        for (size_t i = 0; i < n_felix_fields; i++)
                if (strcasecmp(felix_fields[i].json, key) == 0)
                        return !felix_fields[i].typed;
        return false;
}

/* A walk by name over the few rows that have CRD alternatives, without a
 * second table in that order to keep in step with this one. */
const FelixField *felix_crd_next(const FelixField *prev) {
        const FelixField *next = NULL;

        for (size_t i = 0; i < n_felix_fields; i++) {
                const FelixField *f = &felix_fields[i];

                if ((f->crd_enum || f->crd_ci) && (!prev || strcmp(f->json, prev->json) > 0) &&
                    (!next || strcmp(f->json, next->json) < 0))
                        next = f;
        }
        return next;
}

/* ---- string checks ---- */

/* Is word one of the space-separated alternatives? */
static bool word_in(const char *word, const char *alternatives, bool ignore_case) {
        size_t len = strlen(word);

        for (const char *p = alternatives; p;) {
                const char *end = strchr(p, ' ');
                size_t n = end ? (size_t)(end - p) : strlen(p);

                if (n == len && (ignore_case ? strncasecmp(p, word, n) : memcmp(p, word, n)) == 0)
                        return true;
                p = end ? end + 1 : NULL;
        }
        return false;
}

bool felix_one_of(const char *word, const char *alternatives) {
        return word_in(word, alternatives, false);
}

bool felix_one_of_ci(const char *word, const char *alternatives) {
        return word[0] == 0 || word_in(word, alternatives, true);
}

static bool chars_valid(const char *s, const char *alphabet, size_t max) {
        size_t n = strlen(s);

        return n >= 1 && n <= max && strspn(s, alphabet) == n;
}

/* keyValueList: comma-separated "word=anything" items; empty items and
 * an all-blank value are fine. Go's \s is [\t\n\f\r ], \w [0-9A-Za-z_]. */
static bool key_values_valid(const char *s) {
        const char *blank = " \t\n\f\r";

        if (s[strspn(s, blank)] == 0)
                return true;
        for (const char *p = s; p;) {
                const char *end = strchr(p, ',');
                size_t n = end ? (size_t)(end - p) : strlen(p), i = 0, word;

                if (n > 0) {
                        while (i < n && strchr(blank, p[i]))
                                i++;
                        word = i;
                        while (i < n && (p[i] == '_' || (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
                                         (p[i] >= 'A' && p[i] <= 'Z')))
                                i++;
                        if (i == word || i >= n || p[i] != '=')
                                return false;
                        /* (.*) does not match a newline */
                        if (memchr(p + i, '\n', n - i))
                                return false;
                }
                p = end ? end + 1 : NULL;
        }
        return true;
}

/* A repeat count at p: "{n}", "{n,}" or "{n,m}" (max -1 for none). */
static bool repeat_braces(const char *p, size_t *ret_len, long *ret_min, long *ret_max) {
        const char *q = p + 1;
        long lo = -1, hi;

        if (*q < '0' || *q > '9')
                return false;
        lo = strtol(q, (char **)&q, 10);
        hi = lo;
        if (*q == ',') {
                q++;
                hi = -1;
                if (*q >= '0' && *q <= '9')
                        hi = strtol(q, (char **)&q, 10);
        }
        if (*q != '}')
                return false;
        *ret_len = (size_t)(q + 1 - p);
        *ret_min = lo;
        *ret_max = hi;
        return true;
}

/* A syntax check of Go's regexp (RE2, Perl flags): what Compile rejects
 * in practice — nothing to repeat, nested repetition, unbalanced groups
 * and classes, bad escapes, bad repeat counts, unknown (? forms. */
static bool go_regexp_valid(const char *re) {
        int depth = 0;
        bool atom = false, repeated = false; /* something to repeat; last item was a repeat */

        for (const char *p = re; *p;) {
                size_t len;
                long lo, hi;

                switch (*p) {
                case '(':
                        if (p[1] == '?') {
                                const char *q = p + 2;
                                if (*q == 'P' && q[1] == '<')
                                        q++;
                                if (*q == '<') {
                                        const char *e = strchr(q, '>');
                                        if (!e || e == q + 1)
                                                return false;
                                        p = e + 1;
                                } else {
                                        q += strspn(q, "imsU-");
                                        if (q == p + 2 || (*q != ')' && *q != ':'))
                                                return false;
                                        if (*q == ')') { /* flags only: nothing to repeat */
                                                p = q + 1;
                                                atom = repeated = false;
                                                continue;
                                        }
                                        p = q + 1;
                                }
                        } else
                                p++;
                        depth++;
                        atom = repeated = false;
                        continue;
                case ')':
                        if (depth-- == 0)
                                return false;
                        p++;
                        atom = true;
                        repeated = false;
                        continue;
                case '|':
                        p++;
                        atom = repeated = false;
                        continue;
                case '*':
                case '+':
                case '?':
                        if (!atom || repeated)
                                return false;
                        p++;
                        if (*p == '?')
                                p++;
                        repeated = true;
                        continue;
                case '{':
                        if (repeat_braces(p, &len, &lo, &hi)) {
                                if (!atom || repeated || lo > 1000 || hi > 1000 || (hi >= 0 && hi < lo))
                                        return false;
                                p += len;
                                if (*p == '?')
                                        p++;
                                repeated = true;
                                continue;
                        }
                        p++; /* a literal brace */
                        break;
                case '[': {
                        const char *q = p + 1;
                        if (*q == '^')
                                q++;
                        if (*q == ']')
                                q++;
                        for (; *q && *q != ']'; q++) {
                                if (*q == '\\') {
                                        if (!q[1])
                                                return false;
                                        q++;
                                } else if (q[0] == '-' && q[1] && q[1] != ']' && q > p + 1 && q[-1] > q[1] &&
                                           q[-1] != '\\')
                                        return false;
                        }
                        if (*q != ']')
                                return false;
                        p = q + 1;
                        break;
                }
                case '\\':
                        if (!p[1])
                                return false;
                        if ((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z') ||
                            (p[1] >= '1' && p[1] <= '9')) {
                                if (!strchr("afnrtvdDsSwWbBAzpPxQE", p[1]))
                                        return false;
                                if ((p[1] == 'b' || p[1] == 'B' || p[1] == 'A' || p[1] == 'z')) {
                                        p += 2;
                                        atom = repeated = false;
                                        continue;
                                }
                        }
                        p += 2;
                        break;
                case '^':
                case '$':
                        p++;
                        atom = repeated = false;
                        continue;
                default:
                        p++;
                        break;
                }
                atom = true;
                repeated = false;
        }
        return depth == 0;
}

/* ParseCIDROrIP() succeeds (an empty string does too: a nil IP). */
static bool cidr_or_ip_valid(const char *s) {
        IPNet n;
        IPAddr a;

        return isempty(s) || ipnet_parse_go(s, &n, NULL) == 0 || ipaddr_parse_go(s, &a);
}

bool felix_value_valid(const FelixField *f, const char *s) {
        switch (f->rule) {
        case FELIX_ONE_OF:
                return felix_one_of(s, f->values);
        case FELIX_KEY_VALUES:
                return key_values_valid(s);
        case FELIX_REGEXP:
                return go_regexp_valid(s);
        case FELIX_CHARS:
        case FELIX_IFACE_FILTERS:
        case FELIX_LOG_FILTERS:
                return chars_valid(s, f->values, (size_t)f->max);
        case FELIX_INTERFACE:
                return syntax_is_interface_name(s);
        case FELIX_CIDRS:
                return cidr_or_ip_valid(s);
        case FELIX_NONE:
        case FELIX_INT:
        case FELIX_PORTS:
        case FELIX_ROUTE_TABLE_IDS:
        case FELIX_ROUTE_TABLE:
        case FELIX_HEALTH:
        case _FELIX_RULE_MAX:
        case _FELIX_RULE_INVALID:
                break;
        }
        return true;
}
