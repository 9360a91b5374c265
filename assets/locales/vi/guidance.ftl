guidance-card-not-found = Không tìm thấy giấy tờ trong ảnh. Vui lòng đặt toàn bộ giấy tờ trong khung, đủ ánh sáng, và chụp lại.
guidance-face-mismatch = Khuôn mặt không khớp với ảnh trên giấy tờ. Vui lòng chụp lại khuôn mặt: nhìn thẳng vào camera, không đeo kính hay đội mũ.
guidance-face-mismatch-auth = Khuôn mặt không khớp với hồ sơ của số này. Vui lòng chụp lại khuôn mặt: nhìn thẳng vào camera, không đeo kính hay đội mũ. Nếu vẫn không khớp, vui lòng gặp nhân viên.
guidance-restart = Không xác nhận được khuôn mặt. Vui lòng bắt đầu lại từ giấy tờ.
guidance-one-person = Chỉ một người trong ảnh. Vui lòng nhờ người bên cạnh tránh ra và chụp lại.
guidance-rejected = Giấy tờ không được chấp nhận: { $message }
guidance-kiosk-not-set-up = Kiosk chưa được cài đặt đúng. Vui lòng nhờ nhân viên hỗ trợ.
guidance-certificate = Kiosk không thể kết nối an toàn tới dịch vụ xác thực. Vui lòng nhờ nhân viên hỗ trợ.
guidance-certificate-server = Dành cho nhân viên: chứng chỉ của máy chủ không được kiosk này tin cậy. Kiểm tra network.ca_file (CA của ngân hàng) và chứng chỉ của máy chủ; chi tiết có trong nhật ký.
guidance-certificate-kiosk = Dành cho nhân viên: máy chủ từ chối chứng chỉ của kiosk này. Kiểm tra network.client_cert và network.client_key; chi tiết có trong nhật ký.
guidance-retake = Chụp lại
guidance-restart-button = Bắt đầu lại
guidance-ok = Đồng ý
backend-unavailable-title = Dịch vụ xác thực không phản hồi
backend-unavailable-body = Ảnh của quý khách vẫn còn đây. Vui lòng thử lại sau giây lát hoặc nhờ nhân viên hỗ trợ.
backend-retry = Thử lại
backend-cancel = Quay lại ảnh của tôi
guidance-restart-selfie = Chưa xác nhận được khuôn mặt. Hãy chụp lại ảnh khuôn mặt.
guidance-rejected-spoken = Giấy tờ không được chấp nhận. Vui lòng chụp lại.
guidance-chip-reader-missing = Kiosk này hiện không xác minh được thẻ căn cước: đầu đọc thẻ không hoạt động, mà chip của thẻ cần được đọc. Vui lòng nhờ nhân viên hỗ trợ, hoặc dùng kiosk khác.

    (Nhân viên: không có đầu đọc thẻ nào phản hồi và chip.mode là "required". Kiểm tra dây cắm của đầu đọc và dịch vụ pcscd.)
