# Built-in rules on the scopes an app asks for.
package plaza.builtin.scopes

import rego.v1

# Each rule below walks every scope a permission asks for, required (`scopes`) or optional
# (`optionalScopes`), as `scope` at the JSON pointer /permissions/<i>/<list>/<j>. One loop over
# both lists in each rule, rather than a shared helper rule: on regorus's VM a rule call and
# the tuples it builds cost more than walking a manifest's few scopes twice. The wildcard rule
# first asks whether any scope of the list ends in `*` with one builtin call, so a list without
# wildcards (nearly all) is not walked at all.

# METADATA
# title: No wildcard scopes
# description: A scope ending in `*` (such as `admin:*`) grants everything below it; apps must name each scope they need.
# custom:
#   id: plaza.scopes.no-wildcard
#   remediation: Replace the wildcard with the specific scopes the app uses, e.g. `calendar.read` instead of `calendar.*`.
deny contains {"rule": "plaza.scopes.no-wildcard", "msg": msg, "details": {"path": path}} if {
	some i, p in input.permissions
	some list in ["scopes", "optionalScopes"]
	strings.any_suffix_match(p[list], "*")
	some j, scope in p[list]
	endswith(scope, "*")
	path := sprintf("/permissions/%d/%s/%d", [i, list, j])
	msg := sprintf("permission %q asks for the wildcard scope %q", [p.name, scope])
}

# A scope is sensitive when it matches an entry of data.plaza.org.sensitive_scopes:
#   - `mail.send` matches the entry `mail.send` (an entry without `*` names one scope);
#   - `secrets.read` matches `secrets.*` (an entry ending in `*` is a prefix, the `*` dropped);
#   - `tenant.admin` matches `*.admin` (an entry starting with `*` is a suffix);
#   - an entry that is only `*` matches every scope.
# Plaza splits the list into data.plaza.derived.sensitive_scopes (exact, prefixes, suffixes)
# once per settings document; `true in [...]` holds when any of the three matches. A requested
# scope that itself ends in `*` is left to plaza.scopes.no-wildcard above.

# METADATA
# title: Sensitive scopes need review
# description: Scopes on the organisation's sensitive list (data.plaza.org.sensitive_scopes) send the submission to a reviewer.
# custom:
#   id: plaza.scopes.sensitive
#   remediation: Explain in the permission's `description` why the app needs the scope, or make it an optional scope; a reviewer will decide.
warn contains {"rule": "plaza.scopes.sensitive", "msg": msg, "details": {"path": path}} if {
	some i, p in input.permissions
	some list in ["scopes", "optionalScopes"]
	some j, scope in p[list]
	not endswith(scope, "*")
	true in [
		scope in data.plaza.derived.sensitive_scopes.exact,
		strings.any_prefix_match(scope, data.plaza.derived.sensitive_scopes.prefixes),
		strings.any_suffix_match(scope, data.plaza.derived.sensitive_scopes.suffixes),
	]
	path := sprintf("/permissions/%d/%s/%d", [i, list, j])
	msg := sprintf("permission %q asks for the sensitive scope %q; a reviewer must approve it", [p.name, scope])
}
