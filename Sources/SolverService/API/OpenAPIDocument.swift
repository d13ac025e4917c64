// SolverService/API/OpenAPIDocument: the OpenAPI 3 description of the API, served at /openapi.json (copy in docs/openapi.json).
import Foundation

enum OpenAPIDocument {
    static let data = Data(text.utf8)
    static let text = #"""
{"openapi": "3.0.3", "info": {"title": "lsq solver service", "version": "1"}, "paths": {}}
"""#
}
