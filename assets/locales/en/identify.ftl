identify-title = Who are you?
identify-body = Hold the front of your ID card up to the camera. Only its QR code is read; no picture of the card is kept.
identify-scanning = Looking for the card's QR code…
identify-keypad = Or a member of staff types your number:
identify-erase = ⌫
identify-done = OK
start-over = Start over
