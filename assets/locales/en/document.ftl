document-title = Which document do you have?
document-idr = Chip ID card (CCCD)
document-passport = Passport
document-dlr = Driver licence
