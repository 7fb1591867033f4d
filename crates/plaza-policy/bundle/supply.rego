# Built-in rules on the software supply chain: SBOM, provenance, vulnerabilities.
package plaza.builtin.supply

import rego.v1

# METADATA
# title: SBOM required
# description: Every app version declares a software bill of materials, and the SBOM gate must find it.
# custom:
#   id: plaza.sbom.required
#   remediation: Generate one with `plaza sbom` and set `sbom` in the manifest to its location.
deny contains {"rule": "plaza.sbom.required", "msg": "the manifest declares no SBOM (`sbom`)"} if {
	not input.sbom
}

deny contains {"rule": "plaza.sbom.required", "msg": msg} if {
	input.facts.sbom.present == false
	msg := sprintf("the SBOM declared at %q was not found or could not be parsed", [object.get(input, "sbom", "")])
}

# METADATA
# title: Provenance at the organisation's SLSA level
# description: The artifact carries SLSA provenance at or above data.plaza.org.slsa_min_level.
# custom:
#   id: plaza.provenance.min-level
#   remediation: Build the app on a trusted builder that emits SLSA provenance (`plaza attest`) and declare `provenance` in the manifest.
deny contains {"rule": "plaza.provenance.min-level", "msg": msg} if {
	data.plaza.org.slsa_min_level > 0
	not input.provenance
	msg := sprintf("the manifest declares no provenance, but SLSA build level %v is required", [data.plaza.org.slsa_min_level])
}

deny contains {"rule": "plaza.provenance.min-level", "msg": msg} if {
	level := input.facts.provenanceLevel
	level < data.plaza.org.slsa_min_level
	msg := sprintf("the verified provenance is SLSA build level %v, below the required level %v", [level, data.plaza.org.slsa_min_level])
}

# METADATA
# title: No fixable critical vulnerabilities
# description: A known vulnerability of a blocked severity (data.plaza.org.block_vulnerability_severities) for which a fixed version exists.
# custom:
#   id: plaza.vulnerabilities.fixable-critical
#   remediation: Upgrade the component to the fixed version and rebuild.
deny contains {"rule": "plaza.vulnerabilities.fixable-critical", "msg": msg, "details": details} if {
	some v in input.facts.vulnerabilities.items
	lower(v.severity) in data.plaza.org.block_vulnerability_severities
	v.fixedVersion
	msg := sprintf("%s (%s) affects %s %s; fixed in %s", [v.id, lower(v.severity), v.package, v.version, v.fixedVersion])
	details := {"id": v.id, "package": v.package, "version": v.version, "fixedVersion": v.fixedVersion}
}
