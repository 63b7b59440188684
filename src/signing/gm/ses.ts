/**
 * GB/T 38540-2020 (安全电子签章密码技术规范) version 4 structures, DER-encoded with asn1js:
 *
 * ```
 * SESeal        ::= SEQUENCE { eSealInfo SES_SealInfo, cert OCTET STRING (制章人证书), signAlgID OID, signedValue BIT STRING }
 * SES_SealInfo  ::= SEQUENCE { header SES_Header, esID IA5String, property SES_ESPropertyInfo, picture SES_ESPictrueInfo, extDatas? }
 * SES_Header    ::= SEQUENCE { id IA5String "ES", version INTEGER 4, vid IA5String }
 * SES_ESPropertyInfo ::= SEQUENCE { type INTEGER, name UTF8String, certListType INTEGER 1, certList SEQUENCE OF OCTET STRING,
 *                                   createDate, validStart, validEnd GeneralizedTime }
 * SES_ESPictrueInfo  ::= SEQUENCE { type IA5String, data OCTET STRING, width INTEGER (mm), height INTEGER (mm) }
 * TBS_Sign      ::= SEQUENCE { version INTEGER 4, eseal SESeal, timeInfo GeneralizedTime, dataHash BIT STRING, propertyInfo IA5String }
 * SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert OCTET STRING (签章人证书), signatureAlgID OID, signature BIT STRING }
 * ```
 *
 * The seal maker signs DER(SES_SealInfo); the signer signs DER(TBS_Sign); both SM2 over SM3 with the default user
 * ID, the signature value being DER `SEQUENCE { r, s }` in the BIT STRING (what ofdrw and Bouncy Castle produce and check).
 */
import * as asn1js from 'asn1js';
import type { Signer } from '../types.js';
import { GM_OIDS, sm2Sign, type Sm2KeyPair } from './sm2.js';

export const SES_VERSION = 4;
/** 印章类型: 1 = 单位印章 (an organisation's seal). */
export const SEAL_TYPE_ORGANISATION = 1;

export interface SealPicture {
  /** IA5 type name, e.g. "PNG". */
  type: string;
  data: Uint8Array;
  /** Display size in millimetres. */
  widthMm: number;
  heightMm: number;
}

export interface SealSpec {
  /** 厂商标识 (the implementation that made the seal). */
  vid: string;
  /** 电子印章标识符, unique per seal (IA5). */
  esId: string;
  type: number;
  /** 印章名称 (the department's name). */
  name: string;
  /** DER certificates of the parties allowed to sign with this seal (certListType 1). */
  signerCertificates: Uint8Array[];
  createDate: Date;
  validStart: Date;
  validEnd: Date;
  picture: SealPicture;
}

/** The seal maker (制章人): the certificate and key that sign SES_SealInfo. */
export interface SealMaker {
  certificate: Uint8Array;
  key: Sm2KeyPair;
}

/** GeneralizedTime in whole seconds: DER forbids a zero fraction, so none is written. */
export function generalizedTime(d: Date): asn1js.GeneralizedTime {
  return new asn1js.GeneralizedTime({ value: `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z` });
}

const ia5 = (value: string) => {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new Error(`IA5String value ${JSON.stringify(value)} must be printable ASCII`);
  return new asn1js.IA5String({ value });
};
const octets = (b: Uint8Array) => new asn1js.OctetString({ valueHex: b });
const oid = (o: string) => new asn1js.ObjectIdentifier({ value: o });
const int = (n: number) => new asn1js.Integer({ value: n });
const bits = (b: Uint8Array) => new asn1js.BitString({ valueHex: b });

function sealInfo(spec: SealSpec): asn1js.Sequence {
  if (spec.signerCertificates.length === 0) throw new Error('a seal names at least one signer certificate');
  return new asn1js.Sequence({
    value: [
      new asn1js.Sequence({ value: [ia5('ES'), int(SES_VERSION), ia5(spec.vid)] }),
      ia5(spec.esId),
      new asn1js.Sequence({
        value: [
          int(spec.type),
          new asn1js.Utf8String({ value: spec.name }),
          int(1),
          new asn1js.Sequence({ value: spec.signerCertificates.map(octets) }),
          generalizedTime(spec.createDate),
          generalizedTime(spec.validStart),
          generalizedTime(spec.validEnd),
        ],
      }),
      new asn1js.Sequence({ value: [ia5(spec.picture.type), octets(spec.picture.data), int(spec.picture.widthMm), int(spec.picture.heightMm)] }),
    ],
  });
}

/** Makes an electronic seal (SESeal, DER) signed by the seal maker. */
export function makeSeal(spec: SealSpec, maker: SealMaker): Buffer {
  const info = sealInfo(spec);
  const signedValue = sm2Sign(Buffer.from(info.toBER(false)), maker.key);
  return Buffer.from(new asn1js.Sequence({ value: [info, octets(maker.certificate), oid(GM_OIDS.sm2WithSm3), bits(signedValue)] }).toBER(false));
}

function parsed(der: Uint8Array, what: string): asn1js.BaseBlock {
  const p = asn1js.fromBER(new Uint8Array(der));
  if (p.offset !== der.length || p.result.error) throw new Error(`${what} is not one DER value`);
  return p.result;
}

export interface TbsSignInput {
  /** DER of the SESeal the signature is made under. */
  seal: Uint8Array;
  /** 签章时间. */
  time: Date;
  /** 原文杂凑值: SM3 of the signed data (for OFD, of Signature.xml). */
  dataHash: Uint8Array;
  /** 原文属性, for OFD the path of Signature.xml, e.g. /Doc_0/Signs/Sign_0/Signature.xml. */
  propertyInfo: string;
}

// A department signs every certificate under the same seal: parse it once (asn1js parsing ~0.5 ms for 30 KB).
const parsedSeals = new WeakMap<Uint8Array, asn1js.BaseBlock>();

function tbsSignBlock(input: TbsSignInput): { block: asn1js.Sequence; der: Buffer } {
  let seal = parsedSeals.get(input.seal);
  if (!seal) {
    seal = parsed(input.seal, 'the seal');
    parsedSeals.set(input.seal, seal);
  }
  const block = new asn1js.Sequence({ value: [int(SES_VERSION), seal, generalizedTime(input.time), bits(input.dataHash), ia5(input.propertyInfo)] });
  const der = Buffer.from(block.toBER(false));
  // The seal is embedded verbatim: re-encoding a parsed DER value must not change a byte of what the maker signed.
  if (der.indexOf(Buffer.from(input.seal.buffer, input.seal.byteOffset, input.seal.byteLength)) < 0) throw new Error('the seal is not DER: it changed when embedded');
  return { block, der };
}

/** DER of TBS_Sign: exactly the bytes the signer signs. */
export function tbsSign(input: TbsSignInput): Buffer {
  return tbsSignBlock(input).der;
}

/**
 * Signs TBS_Sign with an SM2 `signer` (keyType 'sm2'; its chain[0] is the 签章人 certificate, which must be one of
 * the seal's signer certificates) and returns DER SES_Signature.
 */
export async function makeSesSignature(input: TbsSignInput, signer: Signer): Promise<Buffer> {
  if (signer.keyType !== 'sm2') throw new Error(`GB/T 38540 signatures here are SM2; this signer is ${signer.keyType}`);
  const cert = signer.chain[0];
  if (!cert) throw new Error('signer has an empty certificate chain');
  const tbs = tbsSignBlock(input);
  const signature = await signer.sign(tbs.der);
  const ses = Buffer.from(new asn1js.Sequence({ value: [tbs.block, octets(cert), oid(GM_OIDS.sm2WithSm3), bits(signature)] }).toBER(false));
  if (ses.indexOf(tbs.der) < 0) throw new Error('TBS_Sign changed when embedded');
  return ses;
}
