//! The face mesh's rigid points: those both halves of the 3D check follow from frame to
//! frame.

/// The face mesh points used: those the face's muscles do not move (nose, its bridge, the
/// forehead, the eyes' corners, the cheekbones and the sides of the face at the ears),
/// not the mouth, the eyelids or the jaw. Indices of MediaPipe's 468-point mesh.
pub const RIGID_POINTS: [usize; 27] = [
    1, 4, 5, 6, 8, 9, 10, 151, 168, 195, 197, 33, 133, 263, 362, 50, 280, 116, 345, 123, 352, 234,
    454, 93, 323, 127, 356,
];
