# Built-in rules on how the app runs: runtime, runtime version, resources, egress.
package plaza.builtin.runtime

import data.plaza.builtin.lib
import rego.v1

allowed_runtimes := sort([r | some r, versions in data.plaza.org.runtimes; count(versions) > 0])

# METADATA
# title: Allowed runtimes and runtime versions
# description: The runtime and its version are on the organisation's list (data.plaza.org.runtimes).
# custom:
#   id: plaza.runtime.allowed
#   remediation: Build for one of the allowed runtimes and runtime versions.
deny contains {"rule": "plaza.runtime.allowed", "msg": msg, "details": {"path": "/runtime"}} if {
	count(object.get(data.plaza.org.runtimes, input.runtime, [])) == 0
	msg := sprintf("runtime %q is not allowed (allowed: %s)", [input.runtime, concat(", ", allowed_runtimes)])
}

deny contains {"rule": "plaza.runtime.allowed", "msg": msg, "details": {"path": "/runtimeVersion"}} if {
	versions := object.get(data.plaza.org.runtimes, input.runtime, [])
	count(versions) > 0
	not input.runtimeVersion in versions
	msg := sprintf("runtime version %q of %q is not allowed (allowed: %s)", [input.runtimeVersion, input.runtime, concat(", ", versions)])
}

# METADATA
# title: Resources within the organisation's caps
# description: Memory, CPU and wall-time limits do not exceed data.plaza.org.resource_caps.
# custom:
#   id: plaza.resources.within-caps
#   remediation: Lower `resources` in the manifest, or ask an administrator to raise the cap.
deny contains {"rule": "plaza.resources.within-caps", "msg": msg, "details": {"path": "/resources/memory"}} if {
	requested := input.resources.memory
	cap := data.plaza.org.resource_caps.memory
	units.parse_bytes(requested) > units.parse_bytes(cap)
	msg := sprintf("memory limit %s exceeds the cap of %s", [requested, cap])
}

deny contains {"rule": "plaza.resources.within-caps", "msg": msg, "details": {"path": "/resources/cpu"}} if {
	requested := input.resources.cpu
	cap := data.plaza.org.resource_caps.cpu
	units.parse(requested) > units.parse(cap)
	msg := sprintf("CPU limit %s exceeds the cap of %s", [requested, cap])
}

deny contains {"rule": "plaza.resources.within-caps", "msg": msg, "details": {"path": "/resources/timeoutMs"}} if {
	requested := input.resources.timeoutMs
	cap := data.plaza.org.resource_caps.timeout_ms
	requested > cap
	msg := sprintf("wall-time limit %vms exceeds the cap of %vms", [requested, cap])
}

# METADATA
# title: Explicit egress hosts
# description: Egress entries name hosts; no bare `*` or top-level wildcard, and no IP literal in a private, loopback or link-local range unless data.plaza.org.allow_private_egress is true.
# custom:
#   id: plaza.egress.explicit
#   remediation: List each host the app calls, e.g. `api.example.com` or `*.example.com`; reach internal services through their DNS names.
deny contains {"rule": "plaza.egress.explicit", "msg": msg, "details": {"path": sprintf("/egress/%d", [i])}} if {
	some i, entry in input.egress
	host := lib.egress_host(entry)
	too_broad(host)
	msg := sprintf("egress entry %q allows any host", [entry])
}

deny contains {"rule": "plaza.egress.explicit", "msg": msg, "details": {"path": sprintf("/egress/%d", [i])}} if {
	not data.plaza.org.allow_private_egress
	some i, entry in input.egress
	host := lib.egress_host(entry)
	lib.is_ip_literal(host)
	some cidr in private_ranges
	net.cidr_contains(cidr, host)
	msg := sprintf("egress entry %q is a private or loopback address (%s)", [entry, cidr])
}

too_broad(host) if host == "*"

too_broad(host) if {
	startswith(host, "*")
	not contains(trim_prefix(host, "*."), ".")
}

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
