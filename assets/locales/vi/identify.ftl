identify-title = Bạn là ai?
identify-body = Đưa thẻ căn cước lên trước camera, mặt nào cũng được. Chỉ mã QR hoặc MRZ được đọc; không lưu ảnh thẻ.
identify-scanning = Đang tìm mã QR hoặc MRZ trên thẻ…
identify-keypad = Hoặc nhân viên nhập số của bạn:
identify-keypad-staff-only = Hoặc nhờ nhân viên nhập số của bạn.
identify-erase = ⌫
identify-done = OK
