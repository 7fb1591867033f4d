# Built-in rules on the scopes an app asks for.
package plaza.builtin.scopes

import data.plaza.builtin.lib
import rego.v1

# METADATA
# title: No wildcard scopes
# description: A scope ending in `*` (such as `admin:*`) grants everything below it; apps must name each scope they need.
# custom:
#   id: plaza.scopes.no-wildcard
#   remediation: Replace the wildcard with the specific scopes the app uses, e.g. `calendar.read` instead of `calendar.*`.
deny contains {"rule": "plaza.scopes.no-wildcard", "msg": msg, "details": {"path": path}} if {
	some [name, scope, path] in lib.requested_scopes
	endswith(scope, "*")
	msg := sprintf("permission %q asks for the wildcard scope %q", [name, scope])
}

# The sensitive-scope list split once per evaluation into exact names, prefixes (`secrets.*`)
# and suffixes (`*.admin`), so matching is plain string tests rather than a function call per
# scope and pattern.
sensitive_exact := {p | some p in data.plaza.org.sensitive_scopes; not contains(p, "*")}

sensitive_prefixes := {trim_suffix(p, "*") | some p in data.plaza.org.sensitive_scopes; endswith(p, "*")}

sensitive_suffixes := {trim_prefix(p, "*") | some p in data.plaza.org.sensitive_scopes; startswith(p, "*")}

sensitive contains [name, scope, path] if {
	some [name, scope, path] in lib.requested_scopes
	not endswith(scope, "*")
	sensitive_scope(scope)
}

sensitive_scope(scope) if scope in sensitive_exact

sensitive_scope(scope) if {
	some prefix in sensitive_prefixes
	startswith(scope, prefix)
}

sensitive_scope(scope) if {
	some suffix in sensitive_suffixes
	endswith(scope, suffix)
}

# METADATA
# title: Sensitive scopes need review
# description: Scopes on the organisation's sensitive list (data.plaza.org.sensitive_scopes) send the submission to a reviewer.
# custom:
#   id: plaza.scopes.sensitive
#   remediation: Explain in the permission's `description` why the app needs the scope, or make it an optional scope; a reviewer will decide.
warn contains {"rule": "plaza.scopes.sensitive", "msg": msg, "details": {"path": path}} if {
	some [name, scope, path] in sensitive
	msg := sprintf("permission %q asks for the sensitive scope %q; a reviewer must approve it", [name, scope])
}
