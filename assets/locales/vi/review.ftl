review-title = Kiểm tra ảnh của quý khách
review-front = Mặt trước
review-back = Mặt sau
review-selfie = Khuôn mặt
review-retake = Chụp lại
review-submit = Gửi đi xác thực
