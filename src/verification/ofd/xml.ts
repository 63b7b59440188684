/**
 * A small, strict XML reader for the few OFD files a verifier must read (OFD.xml, Signatures.xml, Signature.xml,
 * page content): elements, attributes, text, comments, CDATA and processing instructions. No DTD at all (a
 * DOCTYPE is refused, so no entity expansion is possible), only the five predefined entities and character
 * references, bounded node count and depth. Names are compared by local part; the root's namespace is reported.
 */

export interface XmlElement {
  /** Local name (prefix removed). */
  name: string;
  prefix: string | null;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element. */
  text: string;
}

export class XmlError extends Error {
  override name = 'XmlError';
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][\w.-]*(:[A-Za-z_][\w.-]*)?/;

function decode(s: string): string {
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[a-z]+);|&/g, (m, ref: string | undefined) => {
    if (!ref) throw new XmlError('bare "&" in character data');
    if (ref.startsWith('#')) {
      const cp = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (cp > 0x10ffff || cp === 0) throw new XmlError(`bad character reference ${m}`);
      return String.fromCodePoint(cp);
    }
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlError(`undefined entity ${m}`);
    return v;
  });
}

/** Parses one document; throws XmlError on anything malformed or beyond the limits. */
export function parseXml(text: string, limits = { maxNodes: 20_000, maxDepth: 32 }): XmlElement {
  if (/<!DOCTYPE|<!ENTITY/i.test(text)) throw new XmlError('DOCTYPE and entity declarations are not accepted');
  let p = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let nodes = 0;
  const n = text.length;
  while (p < n) {
    const lt = text.indexOf('<', p);
    const chunk = text.slice(p, lt < 0 ? n : lt);
    if (chunk.trim() !== '') {
      const top = stack[stack.length - 1];
      if (!top) throw new XmlError('text outside the root element');
      top.text += decode(chunk);
    }
    if (lt < 0) break;
    p = lt;
    if (text.startsWith('<?', p)) {
      const end = text.indexOf('?>', p);
      if (end < 0) throw new XmlError('unterminated processing instruction');
      p = end + 2;
    } else if (text.startsWith('<!--', p)) {
      const end = text.indexOf('-->', p);
      if (end < 0) throw new XmlError('unterminated comment');
      p = end + 3;
    } else if (text.startsWith('<![CDATA[', p)) {
      const end = text.indexOf(']]>', p);
      const top = stack[stack.length - 1];
      if (end < 0 || !top) throw new XmlError('misplaced or unterminated CDATA');
      top.text += text.slice(p + 9, end);
      p = end + 3;
    } else if (text.startsWith('</', p)) {
      const m = NAME.exec(text.slice(p + 2, p + 200));
      const top = stack.pop();
      if (!m || !top) throw new XmlError('unexpected end tag');
      const full = top.prefix ? `${top.prefix}:${top.name}` : top.name;
      if (m[0] !== full) throw new XmlError(`end tag </${m[0]}> does not close <${full}>`);
      const close = text.indexOf('>', p);
      if (close < 0 || text.slice(p + 2 + m[0].length, close).trim() !== '') throw new XmlError('malformed end tag');
      p = close + 1;
    } else {
      const m = NAME.exec(text.slice(p + 1, p + 200));
      if (!m) throw new XmlError(`malformed tag at ${p}`);
      if (++nodes > limits.maxNodes) throw new XmlError(`more than ${limits.maxNodes} elements`);
      const [prefix, local] = m[0].includes(':') ? (m[0].split(':') as [string, string]) : [null, m[0]];
      const el: XmlElement = { name: local, prefix, attrs: {}, children: [], text: '' };
      p += 1 + m[0].length;
      for (;;) {
        while (p < n && /\s/.test(text[p] as string)) p++;
        if (text.startsWith('/>', p)) {
          p += 2;
          break;
        }
        if (text[p] === '>') {
          p += 1;
          stack.push(el);
          break;
        }
        const a = NAME.exec(text.slice(p, p + 200));
        if (!a) throw new XmlError(`malformed attribute in <${local}>`);
        p += a[0].length;
        while (/\s/.test(text[p] ?? '')) p++;
        if (text[p] !== '=') throw new XmlError(`attribute ${a[0]} has no value`);
        p++;
        while (/\s/.test(text[p] ?? '')) p++;
        const q = text[p];
        if (q !== '"' && q !== "'") throw new XmlError(`attribute ${a[0]} is not quoted`);
        const end = text.indexOf(q, p + 1);
        if (end < 0) throw new XmlError('unterminated attribute value');
        const raw = text.slice(p + 1, end);
        if (raw.includes('<')) throw new XmlError('"<" in an attribute value');
        if (a[0] in el.attrs) throw new XmlError(`duplicate attribute ${a[0]}`);
        el.attrs[a[0]] = decode(raw);
        p = end + 1;
      }
      const parent = stack[stack.length - (stack[stack.length - 1] === el ? 2 : 1)];
      if (parent) parent.children.push(el);
      else if (root) throw new XmlError('more than one root element');
      else root = el;
      if (stack.length > limits.maxDepth) throw new XmlError(`nesting deeper than ${limits.maxDepth}`);
    }
  }
  if (stack.length > 0) throw new XmlError(`unclosed element <${(stack[stack.length - 1] as XmlElement).name}>`);
  if (!root) throw new XmlError('no root element');
  return root;
}

/** Children of `el` with local name `name`. */
export const childrenNamed = (el: XmlElement, name: string) => el.children.filter((c) => c.name === name);
/** The one child named `name`, or null (also when there are several). */
export function onlyChild(el: XmlElement, name: string): XmlElement | null {
  const c = childrenNamed(el, name);
  return c.length === 1 ? (c[0] as XmlElement) : null;
}
/** Every descendant named `name`, depth first. */
export function descendants(el: XmlElement, name: string, out: XmlElement[] = []): XmlElement[] {
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}
/** The namespace URI bound to the root's prefix. */
export function rootNamespace(el: XmlElement): string | null {
  return el.attrs[el.prefix ? `xmlns:${el.prefix}` : 'xmlns'] ?? null;
}
