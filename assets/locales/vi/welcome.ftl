welcome-title = Xác thực danh tính của quý khách
welcome-body = Quý khách cần căn cước công dân, hộ chiếu hoặc giấy phép lái xe. Quá trình mất khoảng hai phút.
welcome-start = Bắt đầu
