// The reference our canonicaliser is compared with: what a JavaScript server signs.
//
// Reads one JSON request per line on stdin, {"raw": <body text>, "secret": <IPN secret>},
// and answers one JSON line per request, in order:
//   {"ok": true, "canonical": JSON.stringify(sortKeys(JSON.parse(raw))), "hmac": <hex>}
//   {"ok": false, "error": <why JSON.parse refused raw>}
// One process serves a whole test session, so thousands of payloads cost one start-up.
"use strict";

const crypto = require("node:crypto");
const readline = require("node:readline");

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted = {};
    for (const key of Object.keys(value).sort()) {
      // defineProperty, not assignment: a "__proto__" key stays a plain property.
      Object.defineProperty(sorted, key, {
        value: sortKeys(value[key]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return sorted;
  }
  return value;
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  const request = JSON.parse(line);
  let answer;
  try {
    const canonical = JSON.stringify(sortKeys(JSON.parse(request.raw)));
    const hmac = crypto
      .createHmac("sha512", request.secret || "")
      .update(canonical, "utf8")
      .digest("hex");
    answer = { ok: true, canonical, hmac };
  } catch (error) {
    answer = { ok: false, error: String(error && error.message) };
  }
  process.stdout.write(JSON.stringify(answer) + "\n");
});
