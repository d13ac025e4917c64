# Generates the tiny scipy/numpy fixtures of SparseTensorTests (run once; outputs are committed).
import json, struct
import numpy as np, scipy.sparse as sp, scipy.io

rng = np.random.default_rng(20240611)

def expected(name, a):
    a = sp.csr_matrix(a); a.sum_duplicates(); a.sort_indices()
    a = a.astype(np.float64)
    json.dump({"shape": list(a.shape), "indptr": a.indptr.tolist(), "indices": a.indices.tolist(),
               "bits": ["%016x" % struct.unpack("<Q", struct.pack("<d", v))[0] for v in a.data]},
              open(name + ".expected.json", "w"))

# A 7 x 5 matrix with full-precision values, an empty row and an empty column.
d = rng.standard_normal((7, 5)) * 10.0 ** rng.integers(-5, 6, size=(7, 5))
d[rng.random((7, 5)) < 0.5] = 0; d[3, :] = 0; d[:, 2] = 0; d[6, 4] = 1e-300; d[0, 0] = -123456.789e200
a = sp.csr_matrix(d)
expected("small", a)
sp.save_npz("small_csr_f64_i32_compressed.npz", a)                                   # default: compressed, int32
b = sp.csr_matrix(a); b.indices = b.indices.astype(np.int64); b.indptr = b.indptr.astype(np.int64)
sp.save_npz("small_csr_f64_i64_stored.npz", b, compressed=False)
sp.save_npz("small_csc_f64.npz", a.tocsc())
sp.save_npz("small_coo_f64.npz", a.tocoo())
sp.save_npz("small_coo_array_f64.npz", sp.coo_array(a))                               # sparray (has _is_array)
scipy.io.mmwrite("small_scipy.mtx", a)
# float32 data: the expected values are the float32 values widened.
d32 = d.copy(); d32[0, 0] = -123.456; d32[6, 4] = 1e-30      # within float32 range
f = sp.csr_matrix(d32, dtype=np.float32)
expected("small_f32", f)
sp.save_npz("small_csr_f32_i64.npz", sp.csr_matrix((f.data, f.indices.astype(np.int64), f.indptr.astype(np.int64)), shape=f.shape), compressed=False)
# integer data, non-canonical csr (unsorted indices and a duplicate: 2 + 5 at (1, 3)).
nc = sp.csr_matrix((np.array([4, 2, 5, 7], dtype=np.int64), np.array([3, 3, 0, 1], dtype=np.int32),
                    np.array([0, 0, 3, 4], dtype=np.int32)), shape=(3, 4))
assert not nc.has_canonical_format
sp.save_npz("noncanonical_csr_i64data.npz", nc)
expected("noncanonical", nc)
# symmetric and skew-symmetric Matrix Market written by scipy.
s = sp.csr_matrix(np.array([[2.0, 0, 1.5], [0, 0, -3.25], [1.5, -3.25, 0]]))
scipy.io.mmwrite("sym_scipy.mtx", s, symmetry="symmetric")
expected("sym", s)
k = sp.csr_matrix(np.array([[0, 0.5, 0], [-0.5, 0, 7], [0, -7, 0]]))
scipy.io.mmwrite("skew_scipy.mtx", k, symmetry="skew-symmetric")
expected("skew", k)
# vectors: .npy in several dtypes and versions, and a Matrix Market array written by scipy.
v = rng.standard_normal(6)
json.dump({"bits": ["%016x" % struct.unpack("<Q", struct.pack("<d", x))[0] for x in v]}, open("vec.expected.json", "w"))
np.save("vec_f64.npy", v)
np.save("vec_f32.npy", v.astype(np.float32))
np.save("vec_i64.npy", np.array([3, -1, 0, 7, 2, 9], dtype=np.int64))
np.save("vec_i32_column.npy", np.array([[3], [-1], [0]], dtype=np.int32))
for ver in [(2, 0), (3, 0)]:
    with open("vec_f64_v%d.npy" % ver[0], "wb") as fh:
        np.lib.format.write_array(fh, v, version=ver)
scipy.io.mmwrite("vec_scipy_array.mtx", v.reshape(-1, 1))
# Big-endian arrays, as numpy writes them on request or on a big-endian machine (scipy.sparse.load_npz reads them):
# a csr of [[1.5, 0, -2.25], [0, 3e300, 0]] with '>i4' indptr, '>i8' indices, '>f8' data, '>i8' shape; and a '>u8'
# vector holding a value beyond Int64.
np.savez("bigendian_csr.npz", indptr=np.array([0, 2, 3], dtype=">i4"), indices=np.array([0, 2, 1], dtype=">i8"),
         data=np.array([1.5, -2.25, 3e300], dtype=">f8"), format=np.array(b"csr"), shape=np.array([2, 3], dtype=">i8"))
np.save("bigendian_uint64.npy", np.array([1, 2**63 + 2048, 7], dtype=">u8"))
