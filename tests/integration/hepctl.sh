#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hepctl as a user runs it, on a temporary directory datastore: the
# calicoctl commands and messages, metadata, conflicts, hand-written files,
# selectors, and bad input that must leave the datastore untouched.
. "$(dirname "$0")/lib.sh"

DS="$T/resources.d"
mkdir -p "$DS"
export HEP_DATASTORE="dir:$DS"
EX="$SRCDIR/packaging/examples"
h() { run "$HEPCTL" --datastore "dir:$DS" "$@"; }

# --- create, get, the shipped examples ---
h create -f "$EX"
expect_rc 0 "create the shipped examples"
expect_out "Successfully created 5 resource(s)" "mixed kinds are counted without a kind"

h create -f "$EX/hostendpoint.yaml"
expect_rc 1 "creating an existing resource fails"
expect_err "failed to create 'HostEndpoint' resource: [resource already exists: HostEndpoint(some.name) with error: <nil>]" "already-exists message"

h create -f "$EX/hostendpoint.yaml" --skip-exists
expect_rc 0 "--skip-exists"
expect_out "Successfully created 1 'HostEndpoint' resource(s)" "--skip-exists counts the resource"

h get heps
expect_rc 0 "get heps"
expect_out "$(printf 'NAME        NODE     \nsome.name   myhost   ')" "ps table, padded like calicoctl"

h get hostendpoints -o wide
expect_out "$(printf 'NAME        NODE     INTERFACE   IPS                       PROFILES            \nsome.name   myhost   eth0        192.168.0.1,192.168.0.2   profile1,profile2   ')" "wide table"

h get HEP -o custom-columns=NAME,IPS
expect_out "$(printf 'NAME        IPS                       \nsome.name   192.168.0.1,192.168.0.2   ')" "custom columns, alias in capitals"

h get hep -o custom-columns=NAME,COLOUR
expect_rc 1 "unknown custom column"
expect_err "unknown heading COLOUR, valid values are: NAME, NODE, INTERFACE, IPS, PROFILES" "unknown heading message"

h get hep some.name -o yaml
expect_rc 0 "get one as yaml"
expect_out_contains "kind: HostEndpoint" "a single object, not a list"
expect_out_contains "  uid: " "uid set on create"
expect_out_contains "  creationTimestamp: \"20" "creationTimestamp quoted like calicoctl"
expect_out_contains "  resourceVersion: \"" "resourceVersion set"
UID1=$(printf '%s\n' "$OUT" | sed -n 's/^  uid: //p')
RV1=$(printf '%s\n' "$OUT" | sed -n 's/^  resourceVersion: "\(.*\)"/\1/p')
printf '%s\n' "$OUT" > "$T/stored.yaml"

h get hep -o json
expect_out_contains '"kind": "HostEndpointList"' "listing as json is a List"
expect_out_contains '"items": [' "with items"

h get profiles
expect_out "$(printf 'NAME                          \nprofile1                      \nprofile2                      \nprojectcalico-default-allow   ')" "the built-in default-allow profile is listed last"

h get tiers
expect_out "$(printf 'NAME            ORDER   \nkube-admin      1000    \ndefault         1e+06   \nkube-baseline   1e+07   ')" "built-in tiers, sorted by order, %v floats"

h get gnp allow-some-port -o yaml
expect_out_contains "projectcalico.org/tier: default" "tier label added"
expect_out_contains "  tier: default" "tier defaulted"

h get widgets
expect_rc 1 "unknown kind"
expect_err "failed to get resources: resource type 'widgets' is not supported" "unknown kind message"

h get hep nothere
expect_rc 1 "missing name"
expect_err "resource does not exist: HostEndpoint(nothere) with error: <nil>" "missing name message"

# --- selectors ---
h get heps -l "role == 'server'"
expect_rc 0 "selector on a label the profile applies"
expect_out_contains "some.name" "labelsToApply counts for host endpoints"

h get heps -l "type == 'production' && role == 'db'"
expect_out "$(printf 'NAME   NODE   ')" "a selector that picks nothing prints the header only"

h get heps -l "type == 'production' &&"
expect_rc 1 "bad selector"
expect_err_contains "column" "the error points at a column"

# --- apply, replace, conflicts ---
sed 's/type: production/type: staging/' "$EX/hostendpoint.yaml" > "$T/hep2.yaml"
h apply -f "$T/hep2.yaml"
expect_rc 0 "apply updates"
expect_out "Successfully applied 1 'HostEndpoint' resource(s)" "apply message"
h get hep some.name -o yaml
expect_out_contains "type: staging" "the update is stored"
expect_out_contains "  uid: $UID1" "uid preserved by apply"

h replace -f "$T/stored.yaml"
expect_rc 1 "replace with a stale resourceVersion"
expect_err "hit error: update conflict: HostEndpoint(some.name)" "update conflict message"
expect_out "Partial success: replaced the first 1 out of 1 'HostEndpoint' resources:" "calicoctl's replace quirk"

h create -f "$T/stored.yaml"
expect_rc 1 "create with a resourceVersion"
expect_err_contains "error with field Metadata.ResourceVersion = '$RV1' (field must not be set for a Create request)" "resourceVersion on create"

# --- validation, and nothing written when it fails ---
cat > "$T/bad.yaml" <<'Y'
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: bad
spec:
  node: myhost
Y
before=$(ls "$DS" | sort; cat "$DS"/* | md5sum)
h create -f "$T/bad.yaml"
expect_rc 1 "invalid resource refused"
expect_err "failed to create 'HostEndpoint' resource: [$T/bad.yaml:6:3: spec.interfaceName: error with the following fields:
-  InterfaceName = '' (no interface or expected IPs have been specified)
-  spec (at least one of interfaceName or expectedIPs must be specified)
]" "calicoctl's words (Go validator, then the CRD rule), with file:line:col"
expect_true '[ "$before" = "$(ls "$DS" | sort; cat "$DS"/* | md5sum)" ]' "a failed create writes nothing"

h validate -f "$T/bad.yaml"
expect_rc 1 "validate rejects"
expect_err_contains "failed to validate 'HostEndpoint' resource: [" "validate message"
h validate -f "$EX"
expect_rc 0 "validate the examples"
expect_out "Successfully validated 5 resource(s)" "validate success message"

# A namespace names a file: one that is not a DNS label never gets that far.
printf 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np, namespace: a/../NS}\nspec: {selector: all()}\n' > "$T/escape.yaml"
h validate -f "$T/escape.yaml"
expect_rc 1 "validate rejects a namespace with a path in it"
expect_err_contains "$T/escape.yaml:3:33: metadata.namespace: error with field Metadata.Namespace = 'a/../NS' (namespace must consist of" "positioned, in Calico's form"
sed -i 's|a/../NS|a/../../escaped|' "$T/escape.yaml"
before=$(ls -R "$T" | md5sum)
h create -f "$T/escape.yaml"
expect_rc 1 "create refuses it"
expect_true '[ "$before" = "$(ls -R "$T" | md5sum)" ] && [ ! -e "$T/escaped" ] && [ ! -e "$(dirname "$T")/escaped" ]' "and writes nothing, inside or outside the datastore"

printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: x}\nspec: {node: n, interfaceName: eth0, colour: red}\n' > "$T/unknown.yaml"
h create -f "$T/unknown.yaml"
expect_rc 1 "unknown field"
expect_err "$T/unknown.yaml:4:38: spec.colour: field in document is not recognized or is in the wrong location: colour" "unknown field names file:line:col and path"

: > "$T/empty.yaml"
h create -f "$T/empty.yaml"
expect_rc 1 "empty file"
expect_err "no resources specified in file $T/empty.yaml" "empty file message"
h create -f "$T/empty.yaml" --skip-empty
expect_rc 0 "--skip-empty"
expect_out "No resources specified" "--skip-empty message"

h create -f "$T/missing.yaml"
expect_rc 1 "missing file"
expect_err_contains "failed to execute command: $T/missing.yaml: cannot open: No such file or directory" "missing file message"

printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: y}\nspec: {node: n, interfaceName: "*"}\n' | "$HEPCTL" --datastore "dir:$DS" create -f - > "$T/out" 2>&1
RC=$?
expect_rc 0 "create from stdin"

# --- hand-written files ---
cat > "$DS/hand.yaml" <<'Y'
# written by hand: two profiles and a list
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: hand-a
spec:
  labelsToApply: {zone: a}
---
# keep this comment
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: hand-b
spec: {}
---
apiVersion: projectcalico.org/v3
kind: ProfileList
items:
- apiVersion: projectcalico.org/v3
  kind: Profile
  metadata: {name: hand-c}
- apiVersion: projectcalico.org/v3
  kind: Profile
  metadata: {name: hand-d}
Y
cp "$DS/hand.yaml" "$T/hand.orig"
printf 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: hand-a}\nspec: {labelsToApply: {zone: b}}\n' > "$T/hand-a.yaml"
h apply -f "$T/hand-a.yaml"
expect_rc 0 "update a resource in a hand-written file"
expect_true 'grep -q "zone: b" "$DS/hand.yaml"' "updated in place"
expect_true '[ "$(sed -n "/keep this comment/,\$p" "$DS/hand.yaml")" = "$(sed -n "/keep this comment/,\$p" "$T/hand.orig")" ]' "the other documents are untouched byte for byte"
expect_true '[ "$(ls "$DS" | grep -c "^profile-hand-a")" = 0 ]' "no second copy created"

printf 'apiVersion: projectcalico.org/v3\nkind: Profile\nmetadata: {name: hand-c}\nspec: {}\n' > "$T/hand-c.yaml"
h apply -f "$T/hand-c.yaml"
expect_rc 1 "a resource inside a list cannot be edited"
expect_err_contains "Profile(hand-c) is defined in '$DS/hand.yaml' inside a list with other resources; edit that file by hand" "says which file to edit"

h delete profile hand-b
expect_rc 0 "delete from a hand-written file"
expect_true '! grep -q "name: hand-b" "$DS/hand.yaml" && grep -q "name: hand-a" "$DS/hand.yaml"' "only that document removed"

cp "$DS/profile-profile1.yaml" "$DS/zz-duplicate.yaml"
h get profiles
expect_err_contains "Profile(profile1) is defined in both '$DS/profile-profile1.yaml' and '$DS/zz-duplicate.yaml'" "duplicates name both files"
rm "$DS/zz-duplicate.yaml"

# --- label (calicoctl's label command and messages) ---
h label hostendpoints some.name env=prod
expect_rc 0 "label: add"
expect_out "Successfully set label env on hostendpoints some.name" "add message names the kind as typed"
h get hep some.name -o yaml
expect_out_contains "    env: prod" "the label is stored"
expect_out_contains "    type: staging" "the other labels stay"
RV_LABEL=$(printf '%s\n' "$OUT" | sed -n 's/^  resourceVersion: "\(.*\)"/\1/p')

h label hep some.name env=test
expect_rc 1 "label: a key already there without --overwrite"
expect_err "failed to update label of hep some.name, key env is already present. please use '--overwrite' to set a new value" "calicoctl's refusal"
h get hep some.name -o yaml
expect_out_contains "  resourceVersion: \"$RV_LABEL\"" "nothing written"

h label hep some.name env=prod
expect_rc 0 "label: the same value again needs no --overwrite"
expect_out "Successfully updated label env on hep some.name" "counted as an update, as calicoctl does"

h label HEP some.name env=test --overwrite
expect_rc 0 "label: --overwrite"
expect_out "Successfully updated label env on HEP some.name" "update message"
h get hep some.name -o yaml
expect_out_contains "    env: test" "the new value is stored"
expect_out_contains "  uid: $UID1" "the uid stays"

h label hep some.name env --remove
expect_rc 0 "label: --remove"
expect_out "Successfully removed label env from hep some.name" "remove message"
h get hep some.name -o yaml
expect_true '! printf "%s\n" "$OUT" | grep -q "env:" && printf "%s\n" "$OUT" | grep -q "type: staging"' "only that label is gone"

h label hep some.name env --remove
expect_rc 1 "label: removing a key that is not there"
expect_err "cannot remove label of hep some.name, key env does not exist" "calicoctl's message"

h label hep some.name env=prod --remove
expect_rc 1 "label: --remove takes a key, not key=value"
expect_err "cannot remove label of hep some.name, key env=prod does not exist" "the whole argument is the key, as in calicoctl"

h label hep some.name env
expect_rc 1 "label: a key without a value"
expect_err "invalid label env" "calicoctl's message"
h label hep some.name a=b=c
expect_rc 1 "label: two '='"
expect_err "invalid label a=b=c" "calicoctl's message"
h label hep some.name env=x --overwrite --remove
expect_rc 1 "label: --overwrite with --remove"
expect_err "Invalid option: 'hepctl --datastore dir:$DS label hep some.name env=x --overwrite --remove'. Use flag '--help' to read about a specific subcommand." "is calicoctl's invalid option"
h get heps --bogus
expect_rc 1 "an option get does not know"
expect_err "Invalid option: 'hepctl --datastore dir:$DS get heps --bogus'. Use flag '--help' to read about a specific subcommand." "in calicoctl's words, on one line"

h label widgets w env=prod
expect_rc 1 "label: unknown resource type"
expect_err "failed to get widgets w, error resource type 'widgets' is not supported" "calicoctl's message"
h label hep nothere env=prod
expect_rc 1 "label: a resource that does not exist"
expect_err "hep nothere not found" "calicoctl's message"
h label hep some.name env=-bad-
expect_rc 1 "label: a value Calico refuses"
expect_err_contains "failed to update hep some.name, label not changed" "calicoctl's message"
expect_err_contains "(value) = '-bad-'" "and why"

h label profile profile1 tier=web
expect_rc 0 "label: a profile (metadata.labels)"
h get profile profile1 -o yaml
expect_out_contains "  labels:
    tier: web" "stored in metadata.labels"
h label gnp allow-some-port team=blue
expect_rc 0 "label: a GlobalNetworkPolicy"

printf 'apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: np1, namespace: prod}\nspec: {selector: all()}\n' > "$T/np.yaml"
h create -f "$T/np.yaml"
expect_rc 0 "create a namespaced NetworkPolicy"
h label networkpolicy np1 team=red
expect_rc 1 "label: a NetworkPolicy without -n is looked for in 'default'"
expect_err "networkpolicy np1 not found" "not found there"
h label networkpolicy np1 -n prod team=red
expect_rc 0 "label: a NetworkPolicy with -n"
expect_out "Successfully set label team on networkpolicy np1" "set message"
h get np np1 -n prod -o yaml
expect_out_contains "    team: red" "stored on the policy in that namespace"
h label hep some.name -n prod env=prod
expect_rc 1 "label: -n for a kind without namespaces"
expect_err "hep some.name not found" "calicoctl's (unhelpful) message: its get fails and it reports not found"
h delete np np1 -n prod
expect_rc 0 "delete the NetworkPolicy"

# --- patch and delete ---
h patch hep some.name -p '{"metadata":{"labels":{"extra":"yes"}}}'
expect_rc 0 "patch"
expect_out "Successfully patched 1 'HostEndpoint' resource" "patch message"
h get hep some.name -o yaml
expect_out_contains 'extra: "yes"' "labels merged"
expect_out_contains "type: staging" "existing labels kept"

h delete hep some.name nothere
expect_rc 1 "delete one that exists and one that does not"
expect_out "Successfully deleted 1 'HostEndpoint' resource(s)" "delete success line"
expect_err "Failed to delete 'HostEndpoint' resource: resource does not exist: HostEndpoint(nothere) with error: <nil>" "delete failure line"
h delete hep nothere --skip-not-exists
expect_rc 0 "--skip-not-exists"

h delete profile projectcalico-default-allow
expect_rc 1 "the built-in profile cannot be deleted"
expect_err_contains "cannot be deleted" "built-in profile message"

h delete -f "$EX/policy.yaml"
expect_rc 0 "delete -f"
expect_out "Successfully deleted 1 'GlobalNetworkPolicy' resource(s)" "delete -f message"

# --- GlobalNetworkSet (issue 12, 8) ---
cat > "$T/gns.yaml" <<'END'
apiVersion: projectcalico.org/v3
kind: GlobalNetworkSet
metadata:
  name: trusted
  labels: {role: trusted}
spec:
  nets: [198.51.100.0/28, 203.0.113.0/24, "2001:db8::/32", 10.1.2.3]
END
h create -f "$T/gns.yaml"
expect_rc 0 "create a GlobalNetworkSet"
expect_out "Successfully created 1 'GlobalNetworkSet' resource(s)" "create message"
expect_true '[ -f "$DS/globalnetworkset-trusted.yaml" ]' "stored as globalnetworkset-NAME.yaml"
for a in globalnetworkset globalnetworksets gnetsets gns GNS; do
        h get "$a"
        expect_rc 0 "get $a"
        expect_out "$(printf 'NAME      \ntrusted   ')" "alias $a: NAME only, as calicoctl's ps columns"
done
h get gns -o wide
NETS1=198.51.100.0/28,203.0.113.0/24,2001:db8::/32,10.1.2.3
expect_out "$(printf 'NAME      %-*s\ntrusted   %s   ' $((${#NETS1} + 3)) NETS "$NETS1")" "wide: NETS joined with commas"
# joinAndTruncate(.Spec.Nets, ",", 80): past 80 bytes, cut to 77 and "...".
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: many}\nspec:\n  nets: [%s]\n' \
        "$(seq -s, -f '10.%g.0.0/16' 10 30)" > "$T/gns-many.yaml"
h create -f "$T/gns-many.yaml"
expect_rc 0 "create a set with many nets"
h get gns many -o custom-columns=NETS
expect_out "$(printf '%-83s\n%s...   ' NETS "$(seq -s, -f '10.%g.0.0/16' 10 30 | cut -c1-77)")" "NETS truncated to 80 bytes as calicoctl does"
h get gns -o custom-columns=NAME,IPS
expect_rc 1 "a HostEndpoint heading on a GlobalNetworkSet"
expect_err "unknown heading IPS, valid values are: NAME, NETS" "valid headings for the kind"
h label gns trusted zone=dmz
expect_rc 0 "label a GlobalNetworkSet"
h get globalnetworkset trusted -o yaml
expect_out_contains "    zone: dmz" "label stored"
expect_out_contains "  - 2001:db8::/32" "nets kept as written"
h delete gns many
expect_rc 0 "delete by alias"
expect_out "Successfully deleted 1 'GlobalNetworkSet' resource(s)" "delete message"
expect_true '[ ! -e "$DS/globalnetworkset-many.yaml" ]' "its file is gone"
# calicoctl's validation: the namespace label, a net that is no CIDR, and
# other editions' fields as unknown fields; nothing is written.
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata:\n  name: bad\n  labels: {projectcalico.org/namespace: prod}\nspec:\n  nets: [10.0.0.0/8, 10.0.0.0/40]\n' > "$T/gns-bad.yaml"
h create -f "$T/gns-bad.yaml"
expect_rc 1 "an invalid GlobalNetworkSet"
expect_err_contains "Nets[1] = '10.0.0.0/40' (Reason: failed to validate Field: Nets[1] because of Tag: cidr )" "the cidr tag"
expect_err_contains "Metadata.Labels (label) = 'projectcalico.org/namespace' (projectcalico.org/namespace is not a valid label name)" "the reserved label"
printf 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: bad}\nspec:\n  nets: [10.0.0.0/8]\n  allowedEgressDomains: [example.com]\n' > "$T/gns-bad.yaml"
h apply -f "$T/gns-bad.yaml"
expect_rc 1 "an Enterprise field"
expect_err_contains "spec.allowedEgressDomains: field in document is not recognized or is in the wrong location: allowedEgressDomains" "an unknown field"
expect_true '[ ! -e "$DS/globalnetworkset-bad.yaml" ]' "nothing written"
sed 's/203.0.113.0/192.0.2.0/' "$T/gns.yaml" > "$T/gns-replace.yaml"
h replace -f "$T/gns-replace.yaml"
expect_rc 0 "replace"
h get gns trusted -o wide
expect_out_contains "198.51.100.0/28,192.0.2.0/24," "replaced nets"
h delete globalnetworksets trusted
expect_rc 0 "delete"
expect_true '[ ! -e "$DS/globalnetworkset-trusted.yaml" ]' "its file is gone"

# --- StagedGlobalNetworkPolicy: a kind like the others, never enforced ---
cat > "$T/sgnp.yaml" <<'Y'
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: stage-web
spec:
  order: 20
  selector: role == 'web'
  ingress:
  - action: Deny
    protocol: TCP
    destination: {ports: [8080]}
---
apiVersion: projectcalico.org/v3
kind: StagedGlobalNetworkPolicy
metadata:
  name: stage-gone
spec:
  stagedAction: Delete
Y
h create -f "$T/sgnp.yaml"
expect_rc 0 "create staged policies"
expect_out "Successfully created 2 'StagedGlobalNetworkPolicy' resource(s)" "calicoctl's message"
expect_true '[ -e "$DS/stagedglobalnetworkpolicy-stage-web.yaml" ]' "a file of its own, named after its kind"
h get sgnp stage-web -o yaml
expect_out_contains "  stagedAction: Set" "stored with Calico's default stagedAction"
expect_out_contains "    projectcalico.org/tier: default" "and the tier label"
h get sgnps
expect_out "$(printf 'NAME         TIER      \nstage-gone   default   \nstage-web    default   ')" "get: NAME TIER, as calicoctl"
h get stagedglobalnetworkpolicies -o wide
expect_out "$(printf 'NAME         TIER      ORDER   SELECTOR        \nstage-gone   default   <nil>                   \nstage-web    default   20      role == '\''web'\''   ')" \
        "get -o wide: NAME TIER ORDER SELECTOR"
h get sgnp -o custom-columns=NAME,NODE
expect_rc 1 "a HostEndpoint heading on a staged policy"
expect_err "unknown heading NODE, valid values are: NAME, TIER, ORDER, SELECTOR" "valid headings for the kind"
h create -f "$T/sgnp.yaml"
expect_rc 1 "create again"
expect_err "failed to create any 'StagedGlobalNetworkPolicy' resources: [resource already exists: StagedGlobalNetworkPolicy(stage-web) with error: <nil> resource already exists: StagedGlobalNetworkPolicy(stage-gone) with error: <nil>]" \
        "already exists, in calicoctl's words"
sed -i 's/order: 20/order: 30/' "$T/sgnp.yaml"
h apply -f "$T/sgnp.yaml"
expect_rc 0 "apply"
expect_out "Successfully applied 2 'StagedGlobalNetworkPolicy' resource(s)" "apply message"
h patch sgnp stage-web -p '{"spec":{"order":40}}'
expect_rc 0 "patch"
expect_out "Successfully patched 1 'StagedGlobalNetworkPolicy' resource" "patch message"
h label sgnp stage-web team=blue
expect_rc 0 "label"
h get sgnp stage-web -o yaml
expect_out_contains "  order: 40" "patched"
expect_out_contains "    team: blue" "labelled"
printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: web0, labels: {role: web}}\nspec: {node: myhost, interfaceName: web0}\n' > "$T/web0.yaml"
h create -f "$T/web0.yaml"
h ruleset --node myhost --no-interfaces --staged
expect_out_contains "chain pol-in.stage-web {" "ruleset --staged shows the staged policy"
h ruleset --node myhost --no-interfaces
expect_true '! grep -q "stage-web" <<<"$OUT"' "ruleset, what is enforced, does not"
# Calico's validation, positioned in the file.
printf 'apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: bad}\nspec:\n  stagedAction: Delete\n  selector: all()\n' > "$T/sgnp-bad.yaml"
h create -f "$T/sgnp-bad.yaml"
expect_rc 1 "a staged Delete with a selector"
expect_err "failed to create 'StagedGlobalNetworkPolicy' resource: [$T/sgnp-bad.yaml:5:3: spec: error with field StagedGlobalNetworkPolicySpec = '{Delete default <nil> [] [] all() [] false false false   []}' (Spec fields, except Tier, should all be zero-value if stagedAction is Delete)]" \
        "calicoctl's words with file:line:col"
printf 'apiVersion: projectcalico.org/v3\nkind: StagedGlobalNetworkPolicy\nmetadata: {name: bad}\nspec:\n  stagedAction: Promote\n' > "$T/sgnp-bad.yaml"
h validate -f "$T/sgnp-bad.yaml"
expect_rc 1 "an unknown stagedAction"
expect_err "failed to validate 'StagedGlobalNetworkPolicy' resource: [$T/sgnp-bad.yaml:5:17: spec.stagedAction: error with the following fields:
-  StagedAction = 'Promote' (Reason: failed to validate Field: StagedAction because of Tag: stagedAction )
-  spec.stagedAction (supported values: \"Set\", \"Delete\", \"Learn\", \"Ignore\")
]" "the Go tag and the CRD enum, positioned"
expect_true '[ ! -e "$DS/stagedglobalnetworkpolicy-bad.yaml" ]' "nothing written"
h delete sgnp stage-web stage-gone
expect_rc 0 "delete"
expect_out "Successfully deleted 2 'StagedGlobalNetworkPolicy' resource(s)" "delete message"
expect_true '[ ! -e "$DS/stagedglobalnetworkpolicy-stage-web.yaml" ]' "its file is gone"
h delete hep web0

# --- names as long as Calico allows, and file-system errors (issue 12, 10) ---
# 253 characters: the file name is cut and given a digest, within NAME_MAX.
P=$(printf '%0252d' 0 | tr 0 a)
for n in x y; do
        printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: %s}\nspec: {node: myhost, interfaceName: eth0}\n' "$P$n" > "$T/long-$n.yaml"
        h create -f "$T/long-$n.yaml"
        expect_rc 0 "create a HostEndpoint with a 253-character name"
        expect_out "Successfully created 1 'HostEndpoint' resource(s)" "created"
done
expect_true '[ "$(ls "$DS" | grep -c "^hostendpoint-aaaaaaaaaa")" = 2 ] && [ -z "$(ls "$DS" | awk "length > 255")" ]' "two files, neither name longer than 255 bytes"
h get hep "${P}x" -o yaml
expect_rc 0 "get it by name"
expect_out_contains "  name: \"${P}x\"" "its name whole"
sed 's/eth0/eth1/' "$T/long-x.yaml" > "$T/long-replace.yaml"
h replace -f "$T/long-replace.yaml"
expect_rc 0 "replace it"
h get heps -o custom-columns=NAME,INTERFACE
expect_out_contains "$(printf '%s   eth1        \n%s   eth0        ' "${P}x" "${P}y")" "only the replaced one changed"
h delete hep "${P}x" "${P}y"
expect_rc 0 "delete both"
expect_out "Successfully deleted 2 'HostEndpoint' resource(s)" "delete message"
expect_true '[ "$(ls "$DS" | grep -c "^hostendpoint-aaaaaaaaaa")" = 0 ]' "their files are gone"

# A datastore so deep that its path and a file name pass PATH_MAX: the file
# system's error, with the file, not "already exists".
DEEP="$T/deep"
while [ $((${#DEEP} + 201)) -lt 4078 ]; do DEEP="$DEEP/$(printf '%0200d' 0)"; done
DEEP="$DEEP/$(printf '%0*d' $((4078 - ${#DEEP} - 1)) 0)"
mkdir -p "$DEEP"
printf 'apiVersion: projectcalico.org/v3\nkind: HostEndpoint\nmetadata: {name: x}\nspec: {node: n, interfaceName: eth0}\n' > "$T/x.yaml"
run "$HEPCTL" --datastore "dir:$DEEP" create -f "$T/x.yaml"
expect_rc 1 "a path too long for the file system"
expect_err "failed to create 'HostEndpoint' resource: [cannot write '$DEEP/hostendpoint-x.yaml': File name too long]" "reported as what it is, naming the file"
rm -rf "$T/deep"

# A read-only datastore (a read-only bind mount in a mount namespace of the
# test's own, where that may be made).
mkdir "$T/ro"
ro() { unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' sh "$T/ro" "$@"; }
if ro true 2>/dev/null; then
        OUT=$(ro "$HEPCTL" --datastore "dir:$T/ro" create -f "$T/x.yaml" 2>"$T/.stderr")
        RC=$?
        ERR=$(cat "$T/.stderr")
        expect_rc 1 "create in a read-only datastore"
        expect_err "failed to create 'HostEndpoint' resource: [cannot write to '$T/ro': Read-only file system]" "reported as a read-only file system"
        expect_true '[ -z "$(ls -A "$T/ro")" ]' "nothing written"
else
        echo "skip - read-only datastore: cannot make a mount namespace here"
fi

h --help
expect_rc 0 "--help"
expect_out_contains "Usage:" "usage text"
h get --help
expect_out_contains "--selector" "per-command help"

echo "# version, as calicoctl prints its client lines"
h version
expect_rc 0 "version"
expect_true '[ "$(printf "%s\n" "$OUT" | sed -n 1p)" = "Client Version:    $(grep -m1 -o "version : '"'"'[^'"'"']*" "$SRCDIR/meson.build" | cut -d"'"'"'" -f2)" ]' "its first line is the client version"
expect_true 'printf "%s\n" "$OUT" | sed -n 2p | grep -Eq "^Git commit:        ([0-9a-f]{7,}|unknown)$"' "its second line the commit it was built from"
h version --poll 1s --allow-version-mismatch
expect_rc 0 "calicoctl's --poll and --allow-version-mismatch are accepted"
h version extra
expect_rc 1 "an argument is refused"
