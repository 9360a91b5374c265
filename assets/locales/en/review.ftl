review-title = Check your pictures
review-front = Front
review-back = Back
review-selfie = Face
review-retake = Retake
review-submit = Send for verification
