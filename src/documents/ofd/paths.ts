/** Fixed paths of the one-document, one-signature OFD packages this service writes and reads. */
export const OFD_PATHS = {
  root: 'OFD.xml',
  signatures: 'Doc_0/Signs/Signatures.xml',
  signature: 'Doc_0/Signs/Sign_0/Signature.xml',
  signedValue: 'Doc_0/Signs/Sign_0/SignedValue.dat',
  /** Files a signature cannot cover: they are written after (and about) it. */
  signatureFiles: ['Doc_0/Signs/Signatures.xml', 'Doc_0/Signs/Sign_0/Signature.xml', 'Doc_0/Signs/Sign_0/SignedValue.dat'] as readonly string[],
} as const;
