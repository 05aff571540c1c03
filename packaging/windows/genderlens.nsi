; GenderLens installer for Windows (NSIS 3, Unicode). A recipe: built by the
; native-runner workflow (.github/workflows/installers.yml), not on Linux.
; Expects, relative to this file: ..\..\target\release\genderlens.exe,
; staging\onnxruntime.dll (+ onnxruntime_providers_shared.dll) from the
; onnxruntime==1.31.1 wheel, and ..\..\models\.
; Build: makensis /DVERSION=0.1.0 packaging\windows\genderlens.nsi

Unicode true
!include "MUI2.nsh"
!include "FileFunc.nsh"

!ifndef VERSION
  !define VERSION "0.1.0"
!endif

Name "GenderLens ${VERSION}"
OutFile "..\..\target\GenderLens-${VERSION}-setup.exe"
InstallDir "$PROGRAMFILES64\GenderLens"
InstallDirRegKey HKLM "Software\GenderLens" "InstallDir"
RequestExecutionLevel admin
SetCompressor /SOLID lzma

!define MUI_ICON "genderlens.ico"
!define MUI_UNICON "genderlens.ico"
!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_LICENSE "..\linux\copyright"
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!define MUI_FINISHPAGE_RUN "$INSTDIR\genderlens.exe"
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "GenderLens" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "..\..\target\release\genderlens.exe"
  ; ONNX Runtime sits beside the executable, where GenderLens looks first on Windows.
  File "staging\onnxruntime.dll"
  File /nonfatal "staging\onnxruntime_providers_shared.dll"
  File "genderlens.ico"
  File "..\linux\copyright"
  SetOutPath "$INSTDIR\models"
  File "..\..\models\manifest.json"
  File "..\..\models\centerface.onnx"
  File "..\..\models\gender-v1.onnx"
  File "..\..\models\age-v1.onnx"
  File "..\..\models\faceapi-agegender.onnx"
  File "..\..\models\shape_predictor_5_face_landmarks.dat"

  CreateDirectory "$SMPROGRAMS\GenderLens"
  CreateShortcut "$SMPROGRAMS\GenderLens\GenderLens.lnk" "$INSTDIR\genderlens.exe" "" "$INSTDIR\genderlens.ico"
  CreateShortcut "$SMPROGRAMS\GenderLens\Uninstall GenderLens.lnk" "$INSTDIR\uninstall.exe"

  ; "Open with GenderLens" for the image types it reads.
  WriteRegStr HKLM "Software\Classes\Applications\genderlens.exe\shell\open\command" "" '"$INSTDIR\genderlens.exe" "%1"'
  WriteRegStr HKLM "Software\Classes\Applications\genderlens.exe" "FriendlyAppName" "GenderLens"
  !macro SupportType EXT
    WriteRegStr HKLM "Software\Classes\Applications\genderlens.exe\SupportedTypes" "${EXT}" ""
    WriteRegStr HKLM "Software\Classes\${EXT}\OpenWithList\genderlens.exe" "" ""
  !macroend
  !insertmacro SupportType ".jpg"
  !insertmacro SupportType ".jpeg"
  !insertmacro SupportType ".png"
  !insertmacro SupportType ".webp"
  !insertmacro SupportType ".bmp"
  !insertmacro SupportType ".tif"
  !insertmacro SupportType ".tiff"
  !insertmacro SupportType ".gif"

  WriteRegStr HKLM "Software\GenderLens" "InstallDir" "$INSTDIR"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  !define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\GenderLens"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "GenderLens"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "The GenderLens developers"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\genderlens.ico"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
SectionEnd

Section "Uninstall"
  Delete "$INSTDIR\genderlens.exe"
  Delete "$INSTDIR\onnxruntime.dll"
  Delete "$INSTDIR\onnxruntime_providers_shared.dll"
  Delete "$INSTDIR\genderlens.ico"
  Delete "$INSTDIR\copyright"
  RMDir /r "$INSTDIR\models"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"
  RMDir /r "$SMPROGRAMS\GenderLens"
  DeleteRegKey HKLM "Software\Classes\Applications\genderlens.exe"
  DeleteRegKey HKLM "Software\GenderLens"
  DeleteRegKey HKLM "Software\Microsoft\Windows\CurrentVersion\Uninstall\GenderLens"
SectionEnd
