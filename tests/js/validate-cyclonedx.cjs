// Validates CycloneDX documents with the JavaScript @cyclonedx/cyclonedx-library: a validator
// independent of cyclonedx-python-lib, which aiscan itself validates with before writing.
// Usage: node validate-cyclonedx.cjs FILE... ; the spec version is read from each document.
// Prints one JSON line per file, {"file", "format", "version", "error"}; error is null when
// the document is valid. Exit 0 when all are valid, 1 when any is not, 2 on bad usage, 3 when
// the library or one of its optional validators (ajv, libxmljs2) is missing.
'use strict'
const fs = require('node:fs')
const { Spec, Validation } = require('@cyclonedx/cyclonedx-library')

const VERSIONS = new Set(Object.values(Spec.Version))

function describe (text) {
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{')) {
    return { format: 'json', version: JSON.parse(trimmed).specVersion }
  }
  const match = /xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/([0-9.]+)"/.exec(trimmed)
  return { format: 'xml', version: match ? match[1] : undefined }
}

async function main (files) {
  if (files.length === 0) {
    process.stderr.write('usage: node validate-cyclonedx.cjs FILE...\n')
    return 2
  }
  let failed = false
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8')
    const { format, version } = describe(text)
    let error = null
    if (!VERSIONS.has(version)) {
      error = `not a CycloneDX version this library knows: ${version}`
    } else {
      const validator = format === 'json'
        ? new Validation.JsonStrictValidator(version)
        : new Validation.XmlValidator(version)
      try {
        error = await validator.validate(text)
      } catch (thrown) {
        if (thrown instanceof Validation.MissingOptionalDependencyError) throw thrown
        error = String(thrown.message || thrown) // not well-formed: the parser refuses it
      }
    }
    failed = failed || error !== null
    process.stdout.write(JSON.stringify({ file, format, version, error }) + '\n')
  }
  return failed ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code },
  (error) => { process.stderr.write(`${error.stack || error}\n`); process.exitCode = 3 }
)
