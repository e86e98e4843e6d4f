/* The observer-seat draw re-run in the browser (O7), the same algorithm as
 * machines/lottery.py, specified in docs/lottery.md. No external service: MD5 and SHA-256
 * are computed here, so the page works without a secure context too.
 *
 * On a page with <script type="application/json" id="draw-bundle"> and an element
 * #recheck, it re-runs the draw from the bundle and says whether the published result
 * follows ("一致 / matches"). window.gongkaiLottery exposes the parts for tests.
 */
(function () {
  "use strict";

  var encoder = new TextEncoder();

  function utf8(text) { return encoder.encode(text); }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] + 256).toString(16).slice(1);
    return out;
  }

  // -- MD5 (RFC 1321) --------------------------------------------------------------------
  var MD5_S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
    5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
    6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
  var MD5_K = [];
  for (var k = 0; k < 64; k++) MD5_K[k] = Math.floor(Math.abs(Math.sin(k + 1)) * 4294967296) >>> 0;

  function pad(bytes, bigEndian) {
    var bitLength = bytes.length * 8;
    var total = (((bytes.length + 8) >> 6) + 1) * 64;
    var out = new Uint8Array(total);
    out.set(bytes);
    out[bytes.length] = 0x80;
    var view = new DataView(out.buffer);
    var high = Math.floor(bitLength / 4294967296), low = bitLength >>> 0;
    if (bigEndian) {
      view.setUint32(total - 8, high); view.setUint32(total - 4, low);
    } else {
      view.setUint32(total - 8, low, true); view.setUint32(total - 4, high, true);
    }
    return view;
  }

  function md5(bytes) {
    var view = pad(bytes, false);
    var a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
    for (var off = 0; off < view.byteLength; off += 64) {
      var a = a0, b = b0, c = c0, d = d0;
      for (var i = 0; i < 64; i++) {
        var f, g;
        if (i < 16) { f = (b & c) | (~b & d); g = i; }
        else if (i < 32) { f = (d & b) | (~d & c); g = (5 * i + 1) % 16; }
        else if (i < 48) { f = b ^ c ^ d; g = (3 * i + 5) % 16; }
        else { f = c ^ (b | ~d); g = (7 * i) % 16; }
        var sum = (a + f + MD5_K[i] + view.getUint32(off + g * 4, true)) >>> 0;
        a = d; d = c; c = b;
        b = (b + ((sum << MD5_S[i]) | (sum >>> (32 - MD5_S[i])))) >>> 0;
      }
      a0 = (a0 + a) >>> 0; b0 = (b0 + b) >>> 0; c0 = (c0 + c) >>> 0; d0 = (d0 + d) >>> 0;
    }
    var out = new DataView(new ArrayBuffer(16));
    out.setUint32(0, a0, true); out.setUint32(4, b0, true);
    out.setUint32(8, c0, true); out.setUint32(12, d0, true);
    return hex(new Uint8Array(out.buffer));
  }

  // -- SHA-256 (FIPS 180-4) ---------------------------------------------------------------
  var SHA_K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2];

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  function sha256(bytes) {
    var view = pad(bytes, true);
    var h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    var w = new Array(64);
    for (var off = 0; off < view.byteLength; off += 64) {
      for (var i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
      for (i = 16; i < 64; i++) {
        var s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >>> 3);
        var s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >>> 10);
        w[i] = (w[i - 16] + s0 + w[i - 7] + s1) >>> 0;
      }
      var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (i = 0; i < 64; i++) {
        var t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
          SHA_K[i] + w[i]) >>> 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      h = [(h[0] + a) >>> 0, (h[1] + b) >>> 0, (h[2] + c) >>> 0, (h[3] + d) >>> 0,
        (h[4] + e) >>> 0, (h[5] + f) >>> 0, (h[6] + g) >>> 0, (h[7] + hh) >>> 0];
    }
    var out = new DataView(new ArrayBuffer(32));
    for (var j = 0; j < 8; j++) out.setUint32(j * 4, h[j]);
    return hex(new Uint8Array(out.buffer));
  }

  // -- canonical JSON (RFC 8785 for strings, integers, lists, objects) ---------------------
  function canonicalJSON(value) {
    if (Array.isArray(value)) return "[" + value.map(canonicalJSON).join(",") + "]";
    if (value !== null && typeof value === "object") {
      return "{" + Object.keys(value).sort().map(function (key) {
        return JSON.stringify(key) + ":" + canonicalJSON(value[key]);
      }).join(",") + "}";
    }
    return JSON.stringify(value);
  }

  // -- RFC 3797 section 4 ---------------------------------------------------------------
  var NUMBER = /^[0-9]+(\.[0-9]+)?$/;
  var SEPARATORS = /[\s,，、;；]+/;

  function compareDecimal(x, y) {
    var xp = x.split("."), yp = y.split(".");
    var xw = xp[0].replace(/^0+/, ""), yw = yp[0].replace(/^0+/, "");
    if (xw.length !== yw.length) return xw.length - yw.length;
    if (xw !== yw) return xw < yw ? -1 : 1;
    var xf = xp[1] || "", yf = yp[1] || "";
    var n = Math.max(xf.length, yf.length);
    xf = xf.padEnd(n, "0"); yf = yf.padEnd(n, "0");
    return xf === yf ? 0 : (xf < yf ? -1 : 1);
  }

  function numberText(token) {
    var parts = token.split(".");
    var whole = parts[0].replace(/^0+/, "") || "0";
    return parts.length > 1 ? whole + "." + parts[1] : whole + ".";
  }

  function canonicalSource(value) {
    var tokens = value.trim().split(SEPARATORS).filter(function (t) { return t; });
    if (tokens.length && tokens.every(function (t) { return NUMBER.test(t); })) {
      return tokens.slice().sort(compareDecimal).map(numberText).join("") + "/";
    }
    var kept = value.normalize("NFKD").toUpperCase().replace(/[^A-Z0-9]/g, "");
    if (!kept) throw new Error("随机源没有可用的数字或字母 / a random source with no digits or letters");
    return kept + "/";
  }

  function keyString(sources) {
    if (!sources.length) throw new Error("至少需要一个随机源 / at least one random source is needed");
    return sources.map(canonicalSource).join("");
  }

  function pick(key, counter, remaining) {
    if (counter < 0 || counter >= 65536) throw new Error("超过 65536 次抽取 / too many selections");
    var body = utf8(key);
    var bytes = new Uint8Array(body.length + 4);
    bytes[0] = counter >> 8; bytes[1] = counter & 255;
    bytes.set(body, 2);
    bytes[body.length + 2] = counter >> 8; bytes[body.length + 3] = counter & 255;
    var digest = md5(bytes);
    return [digest, Number(BigInt("0x" + digest) % BigInt(remaining))];
  }

  function rfc3797(pool, sources, count) {
    var key = keyString(sources), left = pool.slice(), selected = [];
    for (var n = 0; n < count; n++) selected.push(left.splice(pick(key, n, left.length)[1], 1)[0]);
    return {key: key, selected: selected};
  }

  // -- gongkai-stratified-1 ---------------------------------------------------------------
  var ALGORITHMS = ["gongkai-stratified-1"];

  function checkRecord(record) {
    if (ALGORITHMS.indexOf(record.algorithm) < 0) throw new Error("未知的算法版本 / unknown algorithm");
    var ids = record.pool.map(function (p) { return p.id; });
    for (var i = 1; i < ids.length; i++) {
      if (!(ids[i - 1] < ids[i])) throw new Error("候选名单须按登记号升序且不重复 / the pool must be sorted by id");
    }
    var categories = record.quotas.map(function (q) { return q.category; });
    if (new Set(categories).size !== categories.length) throw new Error("同一类别不能有两个名额 / one quota per category");
    record.quotas.forEach(function (q) {
      if (!Number.isInteger(q.seats) || q.seats < 0) throw new Error("名额应为非负整数 / seats must be whole numbers");
    });
    record.pool.forEach(function (p) {
      if (categories.indexOf(p.category) < 0) throw new Error("这些类别没有名额 / a category without a quota");
    });
    if (["waiting_list", "empty"].indexOf(record.unfilled) < 0) throw new Error("未知的空缺名额规则 / unknown rule for unfilled seats");
  }

  function shortCategories(record) {
    var counts = {};
    record.pool.forEach(function (p) { counts[p.category] = (counts[p.category] || 0) + 1; });
    return record.quotas.filter(function (q) { return (counts[q.category] || 0) < q.seats; })
      .map(function (q) { return {category: q.category, seats: q.seats, verified: counts[q.category] || 0}; });
  }

  function draw(record, sources) {
    checkRecord(record);
    var key = keyString(sources), steps = [];
    function select(stage, category, left) {
      var picked = pick(key, steps.length, left.length);
      var chosen = left.splice(picked[1], 1)[0];
      steps.push({n: steps.length, stage: stage, category: category, remaining: left.length + 1,
        md5: picked[0], index: picked[1] + 1, selected: chosen});
      return chosen;
    }
    var categoryOf = {};
    record.pool.forEach(function (p) { categoryOf[p.id] = p.category; });
    var seats = [], unfilled = [];
    record.quotas.forEach(function (quota) {
      var left = record.pool.filter(function (p) { return p.category === quota.category; })
        .map(function (p) { return p.id; });
      for (var s = 0; s < quota.seats; s++) {
        if (!left.length) { unfilled.push(quota.category); continue; }
        seats.push({id: select("seat", quota.category, left), category: quota.category,
          member_category: quota.category, via: "quota"});
      }
    });
    var seated = new Set(seats.map(function (s) { return s.id; }));
    var rest = record.pool.filter(function (p) { return !seated.has(p.id); })
      .map(function (p) { return p.id; });
    var waiting = [];
    while (rest.length) waiting.push(select("waiting", null, rest));
    var empty = [];
    unfilled.forEach(function (category) {
      if (record.unfilled === "waiting_list" && waiting.length) {
        var chosen = waiting.shift();
        seats.push({id: chosen, category: category, member_category: categoryOf[chosen], via: "waiting_list"});
      } else {
        empty.push(category);
      }
    });
    var emptyList = [];
    empty.forEach(function (c) {
      var found = emptyList.filter(function (e) { return e.category === c; })[0];
      if (found) found.seats += 1; else emptyList.push({category: c, seats: 1});
    });
    return {format: "gongkai-draw", algorithm: record.algorithm, record: record,
      commitment: sha256(utf8(canonicalJSON(record))), sources: sources.slice(), key: key,
      steps: steps, result: {seats: seats, waiting_list: waiting, empty: emptyList, short: shortCategories(record)}};
  }

  function commitment(secret) { return sha256(utf8(secret.trim())); }

  function verify(bundle) {
    var problems = [];
    try {
      var record = bundle.record, sources = bundle.sources;
      if (bundle.format !== "gongkai-draw") problems.push("不是抽签包 / not a draw bundle");
      if (sha256(utf8(canonicalJSON(record))) !== bundle.commitment) {
        problems.push("公布的记录与其承诺值不符 / the record does not match its commitment");
      }
      if (record.source && record.source.kind === "witnesses") {
        var committed = record.source.commitments || [];
        if (committed.length !== sources.length) {
          problems.push("承诺与揭示的秘密数目不同 / commitments and secrets differ in number");
        } else {
          committed.forEach(function (c, i) {
            if (commitment(sources[i]) !== c.sha256) {
              problems.push("第 " + (i + 1) + " 位见证人的秘密与其承诺不符 / witness " + (i + 1) + "'s secret does not match");
            }
          });
        }
      }
      var again = draw(record, sources);
    } catch (err) {
      problems.push(String(err.message || err));
      return problems;
    }
    ["algorithm", "key", "steps", "result"].forEach(function (name) {
      if (canonicalJSON(again[name]) !== canonicalJSON(bundle[name])) {
        problems.push("重算的 " + name + " 与公布的不同 / the recomputed " + name + " differs from the published one");
      }
    });
    return problems;
  }

  window.gongkaiLottery = {md5: md5, sha256: sha256, utf8: utf8, canonicalJSON: canonicalJSON,
    canonicalSource: canonicalSource, keyString: keyString, rfc3797: rfc3797, draw: draw,
    commitment: commitment, verify: verify};

  function recheck() {
    var source = document.getElementById("draw-bundle");
    var out = document.getElementById("recheck");
    if (!source || !out) return;
    var problems = verify(JSON.parse(source.textContent));
    out.dataset.state = problems.length ? "differs" : "matches";
    out.textContent = problems.length
      ? (out.dataset.differs || "不一致 / differs") + "：" + problems.join("；")
      : (out.dataset.matches || "一致 / matches");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", recheck);
  else recheck();
})();
