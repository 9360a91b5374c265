consent-title = Before we start
consent-what = We will take pictures of your identity document (front and back) and of your face.
consent-why = The bank's verification service reads the document and checks that the face matches its photo.
consent-kept = Nothing is stored on this kiosk: the pictures and the result are erased when you finish or walk away.
consent-accept = I agree
consent-decline = No, thank you
