identify-title = Bạn là ai?
identify-body = Đưa mặt trước thẻ căn cước lên trước camera. Chỉ mã QR được đọc; không lưu ảnh thẻ.
identify-scanning = Đang tìm mã QR trên thẻ…
identify-keypad = Hoặc nhân viên nhập số của bạn:
identify-erase = ⌫
identify-done = OK
start-over = Làm lại từ đầu
