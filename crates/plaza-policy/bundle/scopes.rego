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

sensitive contains [name, scope, path] if {
	some [name, scope, path] in lib.requested_scopes
	not endswith(scope, "*")
	some pattern in data.plaza.org.sensitive_scopes
	lib.scope_matches(pattern, scope)
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
