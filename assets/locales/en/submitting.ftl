submitting-title = Verifying…
step-session = Connecting to the verification service
step-document = Reading the document
step-face = Checking the face
submitting-cancel = Cancel
