# Built-in rules on ownership, billing and licensing.
package plaza.builtin.listing

import rego.v1

# METADATA
# title: Contact e-mail required
# description: The manifest names an e-mail address of the owning team.
# custom:
#   id: plaza.contact.email-required
#   remediation: Add `contact.email` with the owning team's address.
deny contains {"rule": "plaza.contact.email-required", "msg": "the manifest has no contact e-mail (`contact.email`)"} if {
	not input.contact.email
}

# METADATA
# title: At least one maintainer
# description: The manifest names at least one maintainer.
# custom:
#   id: plaza.maintainers.required
#   remediation: Add a `maintainers` entry, e.g. `github:<handle>` or `team:<handle>`.
deny contains {"rule": "plaza.maintainers.required", "msg": "the manifest names no maintainer (`maintainers`)"} if {
	count(object.get(input, "maintainers", [])) == 0
}

# METADATA
# title: Billing required for public apps
# description: "An app with `visibility: public` declares its pricing in `billing`."
# custom:
#   id: plaza.billing.required-for-public
#   remediation: "Add a `billing` section (`plan: free` if the app is never charged), or lower the visibility to `org`."
deny contains {"rule": "plaza.billing.required-for-public", "msg": "a public app must declare `billing`"} if {
	input.visibility == "public"
	not input.billing
}

license_tokens := [t | some t in split(replace(replace(input.license, "(", " "), ")", " "), " "); t != ""]

license_exceptions contains license_tokens[i + 1] if license_tokens[i] == "WITH"

license_ids contains t if {
	some t in license_tokens
	not t in {"AND", "OR", "WITH"}
	not t in license_exceptions
}

allowed(id) if id in data.plaza.org.licenses

# METADATA
# title: License on the allow-list
# description: Every license of the manifest's SPDX expression is on data.plaza.org.licenses (for an expression with `OR`, at least one is).
# custom:
#   id: plaza.license.allowed
#   remediation: Release the app under an allowed license, or ask an administrator to add yours to the allow-list.
deny contains {"rule": "plaza.license.allowed", "msg": msg, "details": {"path": "/license"}} if {
	is_string(input.license)
	not contains(input.license, " OR ")
	some id in license_ids
	not allowed(id)
	msg := sprintf("license %q is not on the allow-list", [id])
}

deny contains {"rule": "plaza.license.allowed", "msg": msg, "details": {"path": "/license"}} if {
	contains(input.license, " OR ")
	not any_allowed
	msg := sprintf("none of the licenses of %q is on the allow-list", [input.license])
}

any_allowed if {
	some id in license_ids
	allowed(id)
}

warn contains {"rule": "plaza.license.allowed", "msg": "the manifest declares no license (`license`)"} if {
	not input.license
}
