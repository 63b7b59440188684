/**
 * Signs an OFD package per GB/T 33190 §18 with a GB/T 38540 seal: `Doc_0/Signs/Sign_0/Signature.xml` lists the
 * SM3 check value of every file of the package (all but the three signature files themselves), a stamp annotation
 * that shows the seal picture, and `SignedValue.dat`, the DER SES_Signature whose TBS_Sign.dataHash is the SM3 of
 * Signature.xml. `Doc_0/Signs/Signatures.xml` names the signature; OFD.xml must already point to it.
 */
import { OFD_PATHS } from '../../documents/ofd/paths.js';
import { GM_OIDS, sm3 } from './sm2.js';
import { makeSesSignature } from './ses.js';
import type { Sm2Signer } from './sm2-signer.js';

export interface OfdSealing {
  signer: Sm2Signer;
  /** DER SESeal the signer signs under. */
  seal: Uint8Array;
  time: Date;
  /** Where the seal picture shows: the page object's ID and the box in millimetres (x y w h, origin top left). */
  stamp: { pageId: number; boundary: readonly [number, number, number, number] };
  provider: { name: string; company: string; version: string };
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ESC[c] as string);
const n3 = (v: number) => String(Math.round(v * 1000) / 1000);

/** The signature files to add to `files` (package paths without a leading slash → bytes). */
export async function signOfdFiles(files: ReadonlyMap<string, Uint8Array>, s: OfdSealing): Promise<Map<string, Buffer>> {
  const refs = [...files.keys()]
    .filter((p) => !OFD_PATHS.signatureFiles.includes(p))
    .sort()
    .map((p) => `<ofd:Reference FileRef="/${esc(p)}"><ofd:CheckValue>${sm3(files.get(p) as Uint8Array).toString('base64')}</ofd:CheckValue></ofd:Reference>`)
    .join('');
  const [x, y, w, h] = s.stamp.boundary;
  const signatureXml = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signature xmlns:ofd="http://www.ofdspec.org/2016"><ofd:SignedInfo>` +
      `<ofd:Provider ProviderName="${esc(s.provider.name)}" Company="${esc(s.provider.company)}" Version="${esc(s.provider.version)}"/>` +
      `<ofd:SignatureMethod>${GM_OIDS.sm2WithSm3}</ofd:SignatureMethod>` +
      `<ofd:SignatureDateTime>${s.time.toISOString().replace(/\.\d{3}Z$/, 'Z')}</ofd:SignatureDateTime>` +
      `<ofd:References CheckMethod="${GM_OIDS.sm3}">${refs}</ofd:References>` +
      `<ofd:StampAnnot ID="1" PageRef="${s.stamp.pageId}" Boundary="${n3(x)} ${n3(y)} ${n3(w)} ${n3(h)}"/>` +
      `</ofd:SignedInfo><ofd:SignedValue>/${OFD_PATHS.signedValue}</ofd:SignedValue></ofd:Signature>\n`,
    'utf8',
  );
  const ses = await makeSesSignature({ seal: s.seal, time: s.time, dataHash: sm3(signatureXml), propertyInfo: `/${OFD_PATHS.signature}` }, s.signer);
  const signaturesXml = Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<ofd:Signatures xmlns:ofd="http://www.ofdspec.org/2016"><ofd:MaxSignId>1</ofd:MaxSignId>` +
      `<ofd:Signature ID="1" Type="Seal" BaseLoc="/${OFD_PATHS.signature}"/></ofd:Signatures>\n`,
    'utf8',
  );
  return new Map([
    [OFD_PATHS.signatures, signaturesXml],
    [OFD_PATHS.signature, signatureXml],
    [OFD_PATHS.signedValue, ses],
  ]);
}
