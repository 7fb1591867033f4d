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
# and suffixes (`*.admin`), so matching a scope is three builtin calls rather than a loop
# over the patterns.
sensitive_exact := {p | some p in data.plaza.org.sensitive_scopes; not contains(p, "*")}

sensitive_prefixes := {trim_suffix(p, "*") | some p in data.plaza.org.sensitive_scopes; endswith(p, "*")}

sensitive_suffixes := {trim_prefix(p, "*") | some p in data.plaza.org.sensitive_scopes; startswith(p, "*")}

sensitive_scope(scope) if scope in sensitive_exact

sensitive_scope(scope) if strings.any_prefix_match(scope, sensitive_prefixes)

sensitive_scope(scope) if strings.any_suffix_match(scope, sensitive_suffixes)

# How a scope matches the list, exactly as before this was rewritten for speed:
#   - `mail.send` matches the entry `mail.send` (an entry without `*` names one scope);
#   - `secrets.read` matches `secrets.*` (an entry ending in `*` is a prefix, the `*` dropped);
#   - `tenant.admin` matches `*.admin` (an entry starting with `*` is a suffix);
#   - an entry that is only `*` is both a prefix and a suffix, and matches every scope.
# A requested scope that itself ends in `*` is left to plaza.scopes.no-wildcard above.
# `strings.any_prefix_match` / `strings.any_suffix_match` test one scope against a whole set
# in one builtin call, where a loop over the patterns ran a few VM instructions per pattern;
# with the warn rule reading lib.requested_scopes directly, about 6% fewer instructions per
# evaluation of the whole bundle (callgrind, seed manifest).
# Findings keep their source lines (the fixtures compare them): hence this comment's length.

# METADATA
# title: Sensitive scopes need review
# description: Scopes on the organisation's sensitive list (data.plaza.org.sensitive_scopes) send the submission to a reviewer.
# custom:
#   id: plaza.scopes.sensitive
#   remediation: Explain in the permission's `description` why the app needs the scope, or make it an optional scope; a reviewer will decide.
warn contains {"rule": "plaza.scopes.sensitive", "msg": msg, "details": {"path": path}} if {
	some [name, scope, path] in lib.requested_scopes
	not endswith(scope, "*")
	sensitive_scope(scope)
	msg := sprintf("permission %q asks for the sensitive scope %q; a reviewer must approve it", [name, scope])
}
