// ticketcode.js: reads and verifies ticket codes in the browser, so that
// the door page can tell a real ticket from a forged one while it has no
// network. It mirrors the root package's ticketcode.go (docs/tickets.md):
//
//	0      version (1)
//	1..4   key id: the first 4 bytes of SHA-256(public key)
//	5..20  event id
//	21..24 seat index, big-endian
//	25..40 booking id
//	41..44 issued at, Unix seconds, big-endian
//	45     section length s, then s bytes; row length r, then r bytes;
//	       seat number, 2 bytes big-endian
//	last 64 bytes: the Ed25519 signature of everything before it
//
// in base64url without padding. Signatures are checked with WebCrypto's
// Ed25519 against the public keys of GET /tickets/keys (a JWKS).

const VERSION = 1;
const FIXED = 1 + 4 + 16 + 4 + 16 + 4;
const SIG = 64;
const MIN = FIXED + 1 + 1 + 2 + SIG;
/** MAX_CODE_LEN is the longest text a code can be (MaxTicketCodeLen in Go). */
export const MAX_CODE_LEN = Math.floor((FIXED + 1 + 255 + 1 + 255 + 2 + SIG + 2) / 3) * 4;

/** InvalidCode is a code that is not a well-formed ticket code. */
export class InvalidCode extends Error {}

/** b64urlDecode decodes strict base64url without padding, or throws. */
export function b64urlDecode(s) {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new InvalidCode('the code is not base64url');
  const std = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  let bin;
  try { bin = atob(std); } catch { throw new InvalidCode('the code is not base64url'); }
  const b = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  // Strict, as Go's decoder: unused bits of the last character are zero,
  // so that exactly one text stands for each code.
  if (b64urlEncode(b) !== s) throw new InvalidCode('the code is not base64url');
  return b;
}

/** b64urlEncode encodes bytes as base64url without padding. */
export function b64urlEncode(b) {
  let bin = '';
  for (const v of b) bin += String.fromCharCode(v);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const hex = (b) => [...b].map((v) => v.toString(16).padStart(2, '0')).join('');

function uuidOf(b) {
  const x = hex(b);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * parseCode reads a code's fields without checking its signature:
 * {keyId, eventId, index, bookingId, issuedAt, section, row, seat, body,
 * signature}. It throws InvalidCode for anything the server would call
 * malformed.
 */
export function parseCode(text) {
  const code = String(text).trim();
  if (code.length > MAX_CODE_LEN) throw new InvalidCode('the code is too long');
  const b = b64urlDecode(code);
  if (b.length < MIN) throw new InvalidCode('the code is truncated');
  if (b[0] !== VERSION) throw new InvalidCode(`unknown code version ${b[0]}`);
  const body = b.subarray(0, b.length - SIG);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const text8 = new TextDecoder();
  let at = FIXED;
  const name = (what) => {
    const n = body[at];
    if (at >= body.length || at + 1 + n > body.length) throw new InvalidCode(`the ${what} overruns the code`);
    const s = text8.decode(body.subarray(at + 1, at + 1 + n));
    at += 1 + n;
    return s;
  };
  const section = name('section');
  const row = name('row');
  if (body.length - at !== 2) throw new InvalidCode('the seat number is malformed');
  return {
    code,
    keyId: hex(body.subarray(1, 5)),
    eventId: uuidOf(body.subarray(5, 21)),
    index: dv.getUint32(21),
    bookingId: uuidOf(body.subarray(25, 41)),
    issuedAt: new Date(dv.getUint32(41) * 1000),
    section, row,
    seat: dv.getUint16(at),
    body,
    signature: b.subarray(b.length - SIG),
  };
}

/**
 * KeyRing holds the public keys of a JWKS as WebCrypto keys, by key id
 * (hex of the first 4 bytes of SHA-256 of the key, derived here as the
 * server derives it rather than trusted from the "kid").
 */
export class KeyRing {
  constructor() { this.keys = new Map(); }

  /** fromJWKS imports every Ed25519 key of a JWKS; others are skipped. */
  static async fromJWKS(jwks) {
    const ring = new KeyRing();
    for (const k of (jwks && jwks.keys) || []) {
      if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') continue;
      const raw = b64urlDecode(k.x);
      const id = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', raw)).subarray(0, 4));
      const key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: k.x }, { name: 'Ed25519' }, false, ['verify']);
      ring.keys.set(id, key);
    }
    return ring;
  }

  get size() { return this.keys.size; }

  /**
   * verify parses text and checks its signature: the parsed code, or
   * InvalidCode for a malformed code, an unknown key or a bad signature.
   */
  async verify(text) {
    const c = parseCode(text);
    const key = this.keys.get(c.keyId);
    if (!key) throw new InvalidCode(`the code is signed by an unknown key ${c.keyId}`);
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, c.signature, c.body);
    if (!ok) throw new InvalidCode('the signature does not verify');
    return c;
  }
}
