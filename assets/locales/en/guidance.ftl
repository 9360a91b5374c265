guidance-card-not-found = We could not find the card in the picture. Hold the whole card inside the frame, in good light, and take it again.
guidance-face-mismatch = The face does not match the document's photo. Take the face picture again: look straight at the camera, without glasses or a hat.
guidance-face-mismatch-auth = The face does not match our records for this number. Take the face picture again: look straight at the camera, without glasses or a hat. If it still does not match, please see a member of staff.
guidance-restart = The face could not be confirmed. Let's start again from the document.
guidance-one-person = Only one person in the picture, please. Ask anyone beside you to step aside and take it again.
guidance-rejected = The document was not accepted: { $message }
guidance-kiosk-not-set-up = This kiosk is not set up correctly. Please ask a member of staff for help.
guidance-certificate = This kiosk cannot connect securely to the verification service. Please ask a member of staff for help.
guidance-certificate-server = For staff: the server's certificate is not trusted by this kiosk. Check network.ca_file (the bank's CA) and the server's certificate; the log has the details.
guidance-certificate-kiosk = For staff: the server refused this kiosk's certificate. Check network.client_cert and network.client_key; the log has the details.
guidance-retake = Take it again
guidance-restart-button = Start again
guidance-ok = OK
backend-unavailable-title = The verification service is not answering
backend-unavailable-body = Your pictures are still here. Try again in a moment, or ask a member of staff.
backend-retry = Try again
backend-cancel = Back to my pictures
guidance-restart-selfie = The face could not be confirmed. Let's take the face picture again.
guidance-rejected-spoken = The document was not accepted. Please take the picture again.
guidance-chip-reader-missing = This kiosk cannot verify identity cards right now: its card reader is not working, and your card's chip must be read. Please ask a member of staff, or use another kiosk.

    (Staff: no card reader answers and chip.mode is "required". Check the reader's cable, and that the pcscd service runs.)
