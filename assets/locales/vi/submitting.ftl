submitting-title = Đang xác thực…
step-session = Đang kết nối dịch vụ xác thực
step-document = Đang đọc giấy tờ
step-face = Đang kiểm tra khuôn mặt
submitting-cancel = Hủy
