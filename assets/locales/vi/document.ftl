document-title = Quý khách dùng giấy tờ nào?
document-idr = Căn cước công dân gắn chip (CCCD)
document-passport = Hộ chiếu
document-dlr = Giấy phép lái xe
