consent-title = Trước khi bắt đầu
consent-what = Chúng tôi sẽ chụp ảnh giấy tờ tùy thân của quý khách (mặt trước và mặt sau) và ảnh khuôn mặt.
consent-why = Dịch vụ xác thực của ngân hàng đọc thông tin trên giấy tờ và kiểm tra khuôn mặt có khớp với ảnh trên giấy tờ.
consent-kept = Kiosk không lưu lại gì: ảnh và kết quả được xóa khi quý khách hoàn tất hoặc rời đi.
consent-accept = Tôi đồng ý
consent-decline = Không, cảm ơn
