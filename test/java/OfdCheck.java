// Independent checker of an OFD certificate with Bouncy Castle (Debian libbcprov-java) and the JDK only:
// ZIP via java.util.zip, SM3 via BC's SM3Digest, SM2 via BC's "SM3withSM2" (user ID 1234567812345678),
// GB/T 38540 structures via BC's ASN.1 parser, re-encoded as DER before verifying (so non-DER input fails).
// usage: java -cp bcprov.jar:. OfdCheck FILE.ofd [EXPECTED-TEXT ...]     exit 0 and "PASS" = all checks passed
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.crypto.digests.SM3Digest;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class OfdCheck {
  static byte[] sm3(byte[] data) {
    SM3Digest d = new SM3Digest();
    d.update(data, 0, data.length);
    byte[] out = new byte[32];
    d.doFinal(out, 0);
    return out;
  }

  static void fail(String why) {
    System.out.println("FAIL " + why);
    System.exit(1);
  }

  static boolean sm2Verify(X509Certificate cert, byte[] data, byte[] sig) throws Exception {
    Signature s = Signature.getInstance("SM3withSM2", "BC");
    s.initVerify(cert.getPublicKey());
    s.update(data);
    return s.verify(sig);
  }

  public static void main(String[] args) throws Exception {
    Security.addProvider(new BouncyCastleProvider());
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (ZipInputStream zin = new ZipInputStream(Files.newInputStream(Paths.get(args[0])), StandardCharsets.UTF_8)) {
      for (ZipEntry e; (e = zin.getNextEntry()) != null; ) files.put(e.getName(), zin.readAllBytes());
    }
    byte[] sigXml = files.get("Doc_0/Signs/Sign_0/Signature.xml");
    byte[] sv = files.get("Doc_0/Signs/Sign_0/SignedValue.dat");
    if (sigXml == null || sv == null) fail("no Signature.xml / SignedValue.dat");

    String xml = new String(sigXml, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("<ofd:Reference FileRef=\"/?([^\"]+)\"><ofd:CheckValue>([^<]+)</ofd:CheckValue>").matcher(xml);
    int refs = 0;
    while (m.find()) {
      byte[] f = files.get(m.group(1));
      if (f == null) fail("referenced file missing: " + m.group(1));
      if (!Base64.getEncoder().encodeToString(sm3(f)).equals(m.group(2))) fail("check value differs: " + m.group(1));
      refs++;
    }
    for (String name : files.keySet()) {
      if (name.startsWith("Doc_0/Signs/")) continue;
      if (!xml.contains("FileRef=\"/" + name + "\"")) fail("unsigned file: " + name);
    }
    System.out.println("PASS check values: " + refs + " files (SM3, BC SM3Digest)");

    ASN1Sequence ses = ASN1Sequence.getInstance(ASN1Primitive.fromByteArray(sv));
    ASN1Sequence tbs = ASN1Sequence.getInstance(ses.getObjectAt(0));
    byte[] signerDer = ASN1OctetString.getInstance(ses.getObjectAt(1)).getOctets();
    byte[] sesSig = ASN1BitString.getInstance(ses.getObjectAt(3)).getOctets();
    ASN1Sequence seal = ASN1Sequence.getInstance(tbs.getObjectAt(1));
    byte[] dataHash = ASN1BitString.getInstance(tbs.getObjectAt(3)).getOctets();
    ASN1Sequence sealInfo = ASN1Sequence.getInstance(seal.getObjectAt(0));
    byte[] makerDer = ASN1OctetString.getInstance(seal.getObjectAt(1)).getOctets();
    byte[] sealSig = ASN1BitString.getInstance(seal.getObjectAt(3)).getOctets();

    if (!java.util.Arrays.equals(dataHash, sm3(sigXml))) fail("dataHash is not SM3(Signature.xml)");
    System.out.println("PASS dataHash = SM3(Signature.xml)");

    CertificateFactory cf = CertificateFactory.getInstance("X.509", "BC");
    X509Certificate signer = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(signerDer));
    X509Certificate maker = (X509Certificate) cf.generateCertificate(new ByteArrayInputStream(makerDer));
    if (!sm2Verify(signer, tbs.getEncoded("DER"), sesSig)) fail("SES signature (SM3withSM2 over TBS_Sign) does not verify");
    System.out.println("PASS SES signature: " + signer.getSubjectX500Principal().getName());
    if (!sm2Verify(maker, sealInfo.getEncoded("DER"), sealSig)) fail("seal signature (SM3withSM2 over SES_SealInfo) does not verify");
    System.out.println("PASS seal signature: " + maker.getSubjectX500Principal().getName());

    if (args.length > 1) {
      StringBuilder text = new StringBuilder();
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        if (!e.getKey().endsWith("Content.xml")) continue;
        Matcher t = Pattern.compile("<ofd:TextCode[^>]*>([^<]*)</ofd:TextCode>").matcher(new String(e.getValue(), StandardCharsets.UTF_8));
        while (t.find()) text.append(t.group(1).replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")).append('\n');
      }
      byte[] font = null;
      for (Map.Entry<String, byte[]> e : files.entrySet()) if (e.getKey().endsWith(".ttf")) font = e.getValue();
      if (font == null) fail("no embedded font");
      java.awt.Font f = java.awt.Font.createFont(java.awt.Font.TRUETYPE_FONT, new ByteArrayInputStream(font));
      for (int i = 1; i < args.length; i++) {
        if (text.indexOf(args[i]) < 0) fail("text lacks: " + args[i]);
        if (f.canDisplayUpTo(args[i]) != -1) fail("embedded font cannot display: " + args[i]);
        System.out.println("PASS text and embedded font: " + args[i]);
      }
    }
    System.out.println("PASS");
  }
}
