# Helpers shared by Plaza's built-in rules. Org settings are read from data.plaza.org,
# where Plaza has merged the organisation's values over bundle/defaults.json.
package plaza.builtin.lib

import rego.v1

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
