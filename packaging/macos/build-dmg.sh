#!/usr/bin/env bash
# Builds GenderLens.app and GenderLens-<version>.dmg on macOS (a recipe: run
# by the native-runner workflow, not on Linux). Layout inside the bundle:
#   Contents/MacOS/genderlens
#   Contents/Frameworks/libonnxruntime.*.dylib   (found via ../Frameworks)
#   Contents/Resources/models/                   (found via ../Resources/models)
#   Contents/Resources/genderlens.icns
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
target=${CARGO_TARGET_DIR:-target}
cargo build --release --locked

# ONNX Runtime from the official wheel for this Mac.
wheels=$(mktemp -d)
python3 -m pip download --no-deps --only-binary=:all: --dest "$wheels" "onnxruntime==1.31.1"
(cd "$wheels" && unzip -q -o ./*.whl 'onnxruntime/capi/*.dylib')

app="$target/macos/GenderLens.app"
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Frameworks" "$app/Contents/Resources/models"
cp "$target/release/genderlens" "$app/Contents/MacOS/"
cp "$wheels"/onnxruntime/capi/libonnxruntime*.dylib "$app/Contents/Frameworks/"
cp models/manifest.json models/centerface.onnx models/gender-v1.onnx models/age-v1.onnx \
    models/faceapi-agegender.onnx models/shape_predictor_5_face_landmarks.dat "$app/Contents/Resources/models/"
cp packaging/macos/Info.plist "$app/Contents/"
sed -i '' "s/<string>0.1.0<\/string>/<string>$version<\/string>/g" "$app/Contents/Info.plist"

iconset=$(mktemp -d)/genderlens.iconset
mkdir -p "$iconset"
for size in 16 32 128 256 512; do
    cp "assets/icons/genderlens-$size.png" "$iconset/icon_${size}x${size}.png"
done
cp assets/icons/genderlens-32.png "$iconset/icon_16x16@2x.png"
cp assets/icons/genderlens-64.png "$iconset/icon_32x32@2x.png"
cp assets/icons/genderlens-256.png "$iconset/icon_128x128@2x.png"
cp assets/icons/genderlens-512.png "$iconset/icon_256x256@2x.png"
iconutil -c icns "$iconset" -o "$app/Contents/Resources/genderlens.icns"

# Ad-hoc signature so Gatekeeper runs it locally; a release signs with a
# Developer ID and notarizes (codesign --options runtime, xcrun notarytool).
codesign --force --deep --sign - "$app"

dmg="$target/macos/GenderLens-$version.dmg"
rm -f "$dmg"
staging=$(mktemp -d)
cp -R "$app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "GenderLens $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
echo "$dmg"
