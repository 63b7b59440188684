#!/usr/bin/env bash
# Independent check of one issued OFD with unzip + openssl + coreutils only (no project code):
#   1. every file of the package except the three signature files has an SM3 CheckValue in Signature.xml, and it matches;
#   2. TBS_Sign.dataHash = SM3(Signature.xml);
#   3. the SES signature over DER(TBS_Sign) verifies with the signer certificate's key (openssl dgst -sm3, distid);
#   4. the seal maker's signature over DER(SES_SealInfo) verifies with the maker certificate's key;
#   5. both certificates chain to the SM2 anchors given (openssl verify -vfyopt distid:1234567812345678).
# usage: verify-ofd-openssl.sh FILE.ofd SM2-ANCHORS.pem        exit 0 and a last line "PASS" = everything passed
set -uo pipefail
OFD=$1; CA=$2; W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
ID=distid:1234567812345678
fail() { echo "FAIL: $*"; exit 1; }
unzip -qq "$OFD" -d "$W/pkg" || fail "not a readable ZIP"
SIG="$W/pkg/Doc_0/Signs/Sign_0/Signature.xml"; SV="$W/pkg/Doc_0/Signs/Sign_0/SignedValue.dat"
[ -f "$SIG" ] && [ -f "$SV" ] || fail "no Doc_0/Signs/Sign_0/Signature.xml + SignedValue.dat"

# 1. check values (SM3, base64) of every package file
refs=$(grep -o '<ofd:Reference FileRef="[^"]*"><ofd:CheckValue>[^<]*' "$SIG" | sed -E 's#<ofd:Reference FileRef="/?([^"]*)"><ofd:CheckValue>#\1 #')
n=0
while read -r path value; do
  [ -n "$path" ] || continue
  got=$(openssl dgst -sm3 -binary "$W/pkg/$path" | base64 -w0) || fail "cannot hash $path"
  [ "$got" = "$value" ] || fail "check value of $path does not match"
  n=$((n+1))
done <<<"$refs"
while IFS= read -r f; do
  rel=${f#"$W/pkg/"}
  case "$rel" in Doc_0/Signs/Signatures.xml|Doc_0/Signs/Sign_0/Signature.xml|Doc_0/Signs/Sign_0/SignedValue.dat) continue;; esac
  grep -qxF "$rel" <(cut -d' ' -f1 <<<"$refs") || fail "unsigned file in the package: $rel"
done < <(find "$W/pkg" -type f)
echo "check values: $n files, all match, no unsigned file"

# DER walking with openssl asn1parse: offsets and lengths of the top-level parts
parse() { openssl asn1parse -inform DER -in "$1" "${@:2}"; }
field() { sed -n "$2p" <<<"$1" | sed -E 's/^ *([0-9]+):d=[0-9]+ +hl=([0-9]+) +l= *([0-9]+).*/\1 \2 \3/'; }
cut_der() { local o h l; read -r o h l <<<"$2"; dd if="$1" bs=1 skip="$o" count=$((h+l)) status=none > "$3"; }
top=$(parse "$SV" | awk '/d=1/')
cut_der "$SV" "$(field "$top" 1)" "$W/tbs.der"
read -r o _ _ <<<"$(field "$top" 2)"; parse "$SV" -strparse "$o" -noout -out "$W/signer.der" 2>/dev/null; cp "$W/signer.der" "$W/signer.cer"
read -r o _ _ <<<"$(field "$top" 4)"; parse "$SV" -strparse "$o" -noout -out "$W/ses-sig.der" 2>/dev/null
tbs=$(parse "$W/tbs.der" | awk '/d=1/')
cut_der "$W/tbs.der" "$(field "$tbs" 2)" "$W/seal.der"
read -r o _ _ <<<"$(field "$tbs" 4)"; parse "$W/tbs.der" -strparse "$o" -noout -out "$W/datahash.bin" 2>/dev/null
seal=$(parse "$W/seal.der" | awk '/d=1/')
cut_der "$W/seal.der" "$(field "$seal" 1)" "$W/sealinfo.der"
read -r o _ _ <<<"$(field "$seal" 2)"; parse "$W/seal.der" -strparse "$o" -noout -out "$W/maker.der" 2>/dev/null
read -r o _ _ <<<"$(field "$seal" 4)"; parse "$W/seal.der" -strparse "$o" -noout -out "$W/seal-sig.der" 2>/dev/null

# 2. dataHash
[ "$(openssl dgst -sm3 -binary "$SIG" | xxd -p -c 64)" = "$(xxd -p -c 64 "$W/datahash.bin")" ] || fail "TBS_Sign.dataHash is not SM3(Signature.xml)"
echo "dataHash: SM3(Signature.xml)"

# 3 + 4. signatures
openssl x509 -inform DER -in "$W/signer.der" -pubkey -noout > "$W/signer.pub" || fail "signer certificate unreadable"
openssl x509 -inform DER -in "$W/maker.der" -pubkey -noout > "$W/maker.pub" || fail "seal maker certificate unreadable"
openssl dgst -sm3 -verify "$W/signer.pub" -sigopt "$ID" -signature "$W/ses-sig.der" "$W/tbs.der" >/dev/null || fail "SES signature does not verify"
echo "SES signature: openssl dgst -sm3 -verify … -sigopt $ID: Verified OK"
openssl dgst -sm3 -verify "$W/maker.pub" -sigopt "$ID" -signature "$W/seal-sig.der" "$W/sealinfo.der" >/dev/null || fail "seal signature does not verify"
echo "seal signature: Verified OK"

# 5. chains
for c in signer maker; do
  openssl x509 -inform DER -in "$W/$c.der" -out "$W/$c.pem"
  openssl verify -vfyopt "$ID" -CAfile "$CA" "$W/$c.pem" >/dev/null 2>&1 || fail "$c certificate does not chain to the anchors"
done
echo "chains: signer and seal maker certificates verify against the anchors"
echo PASS
