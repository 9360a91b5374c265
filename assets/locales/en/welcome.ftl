welcome-title = Verify your identity
welcome-body = You will need your ID card, passport or driver licence. It takes about two minutes.
welcome-start = Start
