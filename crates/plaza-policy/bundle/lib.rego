# Helpers shared by Plaza's built-in rules. Org settings are read from data.plaza.org,
# where Plaza has merged the organisation's values over bundle/defaults.json.
package plaza.builtin.lib

import rego.v1

# Each scope a permission asks for, required or optional, as
# [permission name, scope, JSON pointer to the scope in the manifest].
requested_scopes contains [p.name, s, sprintf("/permissions/%d/scopes/%d", [i, j])] if {
	some i, p in input.permissions
	some j, s in p.scopes
}

requested_scopes contains [p.name, s, sprintf("/permissions/%d/optionalScopes/%d", [i, j])] if {
	some i, p in input.permissions
	some j, s in object.get(p, "optionalScopes", [])
}

# CPU quantity in millicores: "500m", or cores ("1", "0.5").
cpu_millis(q) := to_number(trim_suffix(q, "m")) if endswith(q, "m")

cpu_millis(q) := to_number(q) * 1000 if not endswith(q, "m")

# Memory quantity in bytes: "128Mi", "1Gi".
memory_bytes(q) := units.parse_bytes(q)

# The host of an egress entry `host[:port]`, `[v6]:port` or a bare IPv6 address.
egress_host(entry) := substring(entry, 1, indexof(entry, "]") - 1) if startswith(entry, "[")

egress_host(entry) := split(entry, ":")[0] if {
	not startswith(entry, "[")
	count(split(entry, ":")) <= 2
}

egress_host(entry) := entry if {
	not startswith(entry, "[")
	count(split(entry, ":")) > 2
}

is_ip_literal(host) if regex.match(`^[0-9]{1,3}(\.[0-9]{1,3}){3}$`, host)

is_ip_literal(host) if contains(host, ":")

# Loopback, private, link-local and unique-local ranges (RFC 1918, RFC 6598, RFC 4193, …).
private_ranges := [
	"0.0.0.0/8",
	"10.0.0.0/8",
	"100.64.0.0/10",
	"127.0.0.0/8",
	"169.254.0.0/16",
	"172.16.0.0/12",
	"192.168.0.0/16",
	"::1/128",
	"fc00::/7",
	"fe80::/10",
]
