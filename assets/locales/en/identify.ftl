identify-title = Who are you?
identify-body = Hold your ID card up to the camera, either side. Only its QR code or MRZ is read; no picture of the card is kept.
identify-scanning = Looking for the card's QR code or MRZ…
identify-keypad = Or a member of staff types your number:
identify-keypad-staff-only = Or ask a member of staff to type your number.
identify-erase = ⌫
identify-done = OK
