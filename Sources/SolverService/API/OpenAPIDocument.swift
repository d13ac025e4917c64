// SolverService/API/OpenAPIDocument: the OpenAPI 3 description of the API, served at /openapi.json.
// docs/openapi.json is the same document (a test keeps the two identical).
import Foundation

enum OpenAPIDocument {
    static let data = Data(text.utf8)
    static let text = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "lsq solver service",
    "version": "1.0.0",
    "description": "Sparse linear least squares as durable jobs: min_x ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖². Errors are {\"error\": {\"code\", \"message\", \"details\"}}. Every route but /healthz needs the bearer token when the server has one."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:8080"
    }
  ],
  "security": [
    {
      "bearerAuth": []
    }
  ],
  "components": {
    "securitySchemes": {
      "bearerAuth": {
        "type": "http",
        "scheme": "bearer"
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "properties": {
          "error": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string",
                "description": "Stable machine-readable code, e.g. invalid_json, invalid_matrix, budget_exceeded, queue_full, unauthorized."
              },
              "message": {
                "type": "string",
                "description": "What was wrong, where (field path, entry, line) and what was expected."
              },
              "details": {
                "type": "object",
                "additionalProperties": {
                  "type": "number"
                },
                "description": "Figures, e.g. requiredBytes and budgetBytes for budget_exceeded."
              }
            },
            "additionalProperties": false,
            "required": [
              "code",
              "message"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "error"
        ]
      },
      "Health": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "status"
        ]
      },
      "CooMatrix": {
        "type": "object",
        "properties": {
          "format": {
            "type": "string",
            "enum": [
              "coo"
            ]
          },
          "shape": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "minItems": 2,
            "maxItems": 2,
            "description": "[rows, columns]"
          },
          "rows": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "description": "0-based row of each entry"
          },
          "cols": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "description": "0-based column of each entry"
          },
          "values": {
            "type": "array",
            "items": {
              "type": "number"
            },
            "description": "finite values; duplicates are summed"
          }
        },
        "additionalProperties": false,
        "required": [
          "format",
          "shape",
          "rows",
          "cols",
          "values"
        ],
        "description": "Triplets, 0-based."
      },
      "CsrMatrix": {
        "type": "object",
        "properties": {
          "format": {
            "type": "string",
            "enum": [
              "csr"
            ]
          },
          "shape": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "minItems": 2,
            "maxItems": 2
          },
          "indptr": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "description": "rows + 1 offsets"
          },
          "indices": {
            "type": "array",
            "items": {
              "type": "integer"
            },
            "description": "column of each entry, strictly increasing within a row"
          },
          "values": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "format",
          "shape",
          "indptr",
          "indices",
          "values"
        ],
        "description": "Compressed sparse rows, 0-based, canonical."
      },
      "Matrix": {
        "oneOf": [
          {
            "$ref": "#/components/schemas/CooMatrix"
          },
          {
            "$ref": "#/components/schemas/CsrMatrix"
          }
        ],
        "discriminator": {
          "propertyName": "format"
        }
      },
      "SparseVector": {
        "type": "object",
        "properties": {
          "indices": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "values": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "indices",
          "values"
        ],
        "description": "The nonzeros of y (its length is the row count of A); indices strictly increasing."
      },
      "Vector": {
        "oneOf": [
          {
            "type": "array",
            "items": {
              "type": "number"
            }
          },
          {
            "$ref": "#/components/schemas/SparseVector"
          }
        ]
      },
      "SolveOptions": {
        "type": "object",
        "properties": {
          "solver": {
            "type": "string",
            "enum": [
              "auto",
              "cd",
              "sgd",
              "lsqr",
              "lsmr",
              "qr",
              "normal"
            ],
            "default": "auto"
          },
          "tol": {
            "type": "number",
            "minimum": 0,
            "default": 1e-08,
            "description": "Main tolerance (LSQR/LSMR atol = btol; CD duality gap; SGD relative decrease)."
          },
          "l1": {
            "type": "number",
            "minimum": 0,
            "default": 0,
            "description": "λ₁, the lasso weight."
          },
          "l2": {
            "type": "number",
            "minimum": 0,
            "default": 0,
            "description": "λ₂, the ridge weight."
          },
          "epochs": {
            "type": "integer",
            "minimum": 1,
            "description": "Epoch cap of CD/SGD."
          },
          "maxIter": {
            "type": "integer",
            "minimum": 1,
            "description": "Iteration cap of LSQR/LSMR."
          },
          "seed": {
            "type": "integer",
            "minimum": 0
          },
          "timeLimit": {
            "type": "number",
            "exclusiveMinimum": true,
            "minimum": 0,
            "description": "Seconds; capped by the server's per-job limit."
          },
          "conditionLimit": {
            "type": "number"
          },
          "columnScaling": {
            "type": "boolean"
          },
          "order": {
            "type": "string",
            "enum": [
              "cyclic",
              "random"
            ]
          },
          "learningRate": {
            "type": "string",
            "enum": [
              "constant",
              "invscaling",
              "adagrad"
            ]
          },
          "eta0": {
            "type": "number"
          },
          "batchSize": {
            "type": "integer",
            "minimum": 1
          },
          "averaging": {
            "type": "boolean"
          }
        },
        "additionalProperties": false
      },
      "SolveRequest": {
        "type": "object",
        "properties": {
          "A": {
            "$ref": "#/components/schemas/Matrix"
          },
          "y": {
            "$ref": "#/components/schemas/Vector"
          },
          "options": {
            "$ref": "#/components/schemas/SolveOptions"
          }
        },
        "additionalProperties": false,
        "required": [
          "A",
          "y"
        ],
        "description": "min_x ½‖y − A·x‖² + λ₁‖x‖₁ + ½λ₂‖x‖²"
      },
      "ProductRequest": {
        "type": "object",
        "properties": {
          "kind": {
            "type": "string",
            "enum": [
              "aat",
              "ata",
              "ab"
            ],
            "description": "A·Aᵀ, AᵀA or A·B"
          },
          "A": {
            "$ref": "#/components/schemas/Matrix"
          },
          "B": {
            "$ref": "#/components/schemas/Matrix"
          },
          "options": {
            "type": "object",
            "properties": {
              "upperTriangleOnly": {
                "type": "boolean"
              },
              "dropTolerance": {
                "type": "number",
                "minimum": 0
              },
              "engine": {
                "type": "string",
                "enum": [
                  "native",
                  "cholmod"
                ]
              }
            },
            "additionalProperties": false
          }
        },
        "additionalProperties": false,
        "required": [
          "kind",
          "A"
        ]
      },
      "Progress": {
        "type": "object",
        "properties": {
          "iteration": {
            "type": "integer"
          },
          "objective": {
            "type": "number",
            "nullable": true
          },
          "residual": {
            "type": "number",
            "nullable": true
          },
          "elapsedSeconds": {
            "type": "number"
          },
          "fractionOfLimit": {
            "type": "number",
            "nullable": true
          },
          "etaSeconds": {
            "type": "number",
            "nullable": true
          }
        },
        "additionalProperties": false,
        "required": [
          "iteration",
          "elapsedSeconds"
        ]
      },
      "Report": {
        "type": "object",
        "properties": {
          "solver": {
            "type": "string",
            "enum": [
              "auto",
              "cd",
              "sgd",
              "lsqr",
              "lsmr",
              "qr",
              "normal"
            ]
          },
          "choiceReason": {
            "type": "string"
          },
          "iterations": {
            "type": "integer"
          },
          "stopReason": {
            "type": "string",
            "enum": [
              "zeroSolution",
              "residualTolerance",
              "optimalityTolerance",
              "dualityGap",
              "objectiveStalled",
              "conditionLimit",
              "exact",
              "iterationLimit",
              "timeLimit",
              "cancelled"
            ]
          },
          "stopMessage": {
            "type": "string"
          },
          "converged": {
            "type": "boolean"
          },
          "objective": {
            "type": "number",
            "nullable": true
          },
          "residualNorm": {
            "type": "number",
            "nullable": true
          },
          "optimalityNorm": {
            "type": "number",
            "nullable": true
          },
          "dualityGap": {
            "type": "number",
            "nullable": true
          },
          "rank": {
            "type": "integer",
            "nullable": true
          },
          "normEstimate": {
            "type": "number",
            "nullable": true
          },
          "conditionEstimate": {
            "type": "number",
            "nullable": true
          },
          "nnzX": {
            "type": "integer"
          },
          "setupSeconds": {
            "type": "number"
          },
          "solveSeconds": {
            "type": "number"
          },
          "diagnostics": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "solver",
          "choiceReason",
          "iterations",
          "stopReason",
          "stopMessage",
          "converged",
          "nnzX",
          "setupSeconds",
          "solveSeconds",
          "diagnostics"
        ],
        "description": "The SolveReport of the library."
      },
      "Job": {
        "type": "object",
        "properties": {
          "id": {
            "type": "string",
            "format": "uuid"
          },
          "kind": {
            "type": "string",
            "enum": [
              "solve",
              "product"
            ]
          },
          "status": {
            "type": "string",
            "enum": [
              "queued",
              "running",
              "succeeded",
              "failed",
              "cancelled",
              "interrupted"
            ]
          },
          "createdAt": {
            "type": "string",
            "format": "date-time"
          },
          "startedAt": {
            "type": "string",
            "format": "date-time"
          },
          "finishedAt": {
            "type": "string",
            "format": "date-time"
          },
          "attempts": {
            "type": "integer",
            "description": "Times the job was started (more than 1 after a re-queue)."
          },
          "cancelRequested": {
            "type": "boolean"
          },
          "input": {
            "type": "object",
            "properties": {
              "format": {
                "type": "string",
                "enum": [
                  "json",
                  "matrix-market",
                  "svmlight",
                  "npz",
                  "multipart"
                ]
              },
              "contentType": {
                "type": "string"
              },
              "bytes": {
                "type": "integer"
              }
            },
            "additionalProperties": false,
            "required": [
              "format",
              "contentType",
              "bytes"
            ]
          },
          "problem": {
            "type": "object",
            "properties": {
              "rows": {
                "type": "integer"
              },
              "columns": {
                "type": "integer"
              },
              "nnz": {
                "type": "integer"
              }
            },
            "additionalProperties": false,
            "required": [
              "rows",
              "columns",
              "nnz"
            ]
          },
          "options": {
            "type": "object",
            "properties": {
              "solver": {
                "type": "string",
                "enum": [
                  "auto",
                  "cd",
                  "sgd",
                  "lsqr",
                  "lsmr",
                  "qr",
                  "normal"
                ]
              },
              "tol": {
                "type": "number"
              },
              "l1": {
                "type": "number"
              },
              "l2": {
                "type": "number"
              },
              "epochs": {
                "type": "integer"
              },
              "maxIter": {
                "type": "integer"
              },
              "seed": {
                "type": "integer"
              },
              "timeLimit": {
                "type": "number"
              }
            },
            "additionalProperties": false,
            "required": [
              "solver",
              "tol",
              "l1",
              "l2",
              "seed"
            ]
          },
          "product": {
            "type": "object",
            "properties": {
              "kind": {
                "type": "string",
                "enum": [
                  "aat",
                  "ata",
                  "ab"
                ]
              },
              "upperTriangleOnly": {
                "type": "boolean"
              },
              "dropTolerance": {
                "type": "number"
              },
              "engine": {
                "type": "string",
                "enum": [
                  "native",
                  "cholmod"
                ]
              },
              "estimatedNNZ": {
                "type": "number"
              },
              "estimatedBytes": {
                "type": "number"
              },
              "rows": {
                "type": "integer"
              },
              "columns": {
                "type": "integer"
              },
              "nnz": {
                "type": "integer"
              }
            },
            "additionalProperties": false,
            "required": [
              "kind",
              "upperTriangleOnly",
              "dropTolerance",
              "engine"
            ]
          },
          "progress": {
            "$ref": "#/components/schemas/Progress"
          },
          "report": {
            "$ref": "#/components/schemas/Report"
          },
          "error": {
            "type": "object",
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              }
            },
            "additionalProperties": false,
            "required": [
              "code",
              "message"
            ]
          },
          "note": {
            "type": "string",
            "description": "Why the job was re-queued or how a cancellation ended."
          },
          "links": {
            "type": "object",
            "properties": {
              "self": {
                "type": "string"
              },
              "solution": {
                "type": "string"
              },
              "result": {
                "type": "string"
              }
            },
            "additionalProperties": false,
            "required": [
              "self"
            ]
          }
        },
        "additionalProperties": false,
        "required": [
          "id",
          "kind",
          "status",
          "createdAt",
          "attempts",
          "cancelRequested",
          "input",
          "links"
        ]
      },
      "JobPage": {
        "type": "object",
        "properties": {
          "jobs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Job"
            }
          },
          "total": {
            "type": "integer"
          },
          "offset": {
            "type": "integer"
          },
          "limit": {
            "type": "integer"
          },
          "next": {
            "type": "string",
            "description": "The next page, when there is one."
          }
        },
        "additionalProperties": false,
        "required": [
          "jobs",
          "total",
          "offset",
          "limit"
        ]
      },
      "DenseSolution": {
        "type": "object",
        "properties": {
          "x": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "x"
        ]
      },
      "SparseSolution": {
        "type": "object",
        "properties": {
          "length": {
            "type": "integer"
          },
          "indices": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "values": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "length",
          "indices",
          "values"
        ]
      },
      "CsrResult": {
        "type": "object",
        "properties": {
          "format": {
            "type": "string",
            "enum": [
              "csr"
            ]
          },
          "shape": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "indptr": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "indices": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "values": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        },
        "additionalProperties": false,
        "required": [
          "format",
          "shape",
          "indptr",
          "indices",
          "values"
        ]
      }
    },
    "responses": {
      "Accepted": {
        "description": "Accepted: the job is stored durably and queued.",
        "headers": {
          "Location": {
            "schema": {
              "type": "string"
            },
            "description": "/v1/jobs/{id}"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Job"
            }
          }
        }
      },
      "MalformedRequest": {
        "description": "Malformed request (request line, headers, JSON syntax, field types), with the field path.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotAUUID": {
        "description": "Not a UUID.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Unauthorized": {
        "description": "Missing, malformed or wrong bearer token.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NoSuchJob": {
        "description": "No such job.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "MethodNotAllowed": {
        "description": "Method not allowed on this path (see the Allow header).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NotAcceptable": {
        "description": "No acceptable format.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "RequestTimeout": {
        "description": "The request was not received in time.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "NoBody": {
        "description": "No body.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "BodyTooLarge": {
        "description": "The body exceeds --max-body.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "InsufficientStorage": {
        "description": "The body could not be spooled to disk (the data directory is full or not writable).",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "RequestLineTooLong": {
        "description": "The request line is too long.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "UnsupportedContentType": {
        "description": "Unsupported Content-Type.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "QueueFull": {
        "description": "The queue is full.",
        "headers": {
          "Retry-After": {
            "schema": {
              "type": "integer"
            }
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "HeaderFieldsTooLarge": {
        "description": "Too many or too large header fields.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "ShuttingDown": {
        "description": "Shutting down.",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    }
  },
  "paths": {
    "/healthz": {
      "get": {
        "operationId": "health",
        "security": [],
        "summary": "Liveness (no token needed).",
        "responses": {
          "200": {
            "description": "Serving.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus text format: jobs by state, queue depth, job seconds, request counts and latencies.",
        "responses": {
          "200": {
            "description": "Metrics.",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document.",
        "responses": {
          "200": {
            "description": "OpenAPI 3 document.",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/jobs": {
      "post": {
        "operationId": "submitSolve",
        "summary": "Submit a solve job.",
        "description": "JSON, or an upload: SVMlight as the raw body (its labels are y), or multipart/form-data with A as Matrix Market, SVMlight or .npz and y as a part (Matrix Market and .npz carry no y, so they are not accepted as a raw body). multipart/form-data parts: A (file; format from its Content-Type or file-name extension), y (JSON array or one number per line), options (JSON object). Send Expect: 100-continue for large uploads; chunked transfer encoding is accepted.",
        "parameters": [
          {
            "name": "solver",
            "in": "query",
            "required": false,
            "schema": {
              "type": "string",
              "enum": [
                "auto",
                "cd",
                "sgd",
                "lsqr",
                "lsmr",
                "qr",
                "normal"
              ]
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "tol",
            "in": "query",
            "required": false,
            "schema": {
              "type": "number"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "l1",
            "in": "query",
            "required": false,
            "schema": {
              "type": "number"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "l2",
            "in": "query",
            "required": false,
            "schema": {
              "type": "number"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "epochs",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "maxIter",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "seed",
            "in": "query",
            "required": false,
            "schema": {
              "type": "integer"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          },
          {
            "name": "timeLimit",
            "in": "query",
            "required": false,
            "schema": {
              "type": "number"
            },
            "description": "Solver option for a raw file upload (JSON bodies carry options inside)."
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SolveRequest"
              }
            },
            "multipart/form-data": {
              "schema": {
                "type": "object",
                "properties": {
                  "A": {
                    "type": "string",
                    "format": "binary"
                  },
                  "y": {
                    "type": "string",
                    "format": "binary"
                  },
                  "options": {
                    "type": "string"
                  }
                },
                "required": [
                  "A"
                ]
              }
            },
            "application/x-svmlight": {
              "schema": {
                "type": "string",
                "format": "binary"
              }
            }
          }
        },
        "responses": {
          "202": {
            "$ref": "#/components/responses/Accepted"
          },
          "400": {
            "$ref": "#/components/responses/MalformedRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "408": {
            "$ref": "#/components/responses/RequestTimeout"
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "507": {
            "$ref": "#/components/responses/InsufficientStorage"
          },
          "414": {
            "$ref": "#/components/responses/RequestLineTooLong"
          },
          "431": {
            "$ref": "#/components/responses/HeaderFieldsTooLarge"
          },
          "411": {
            "$ref": "#/components/responses/NoBody"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedContentType"
          },
          "422": {
            "description": "Valid JSON but an invalid problem: index out of range, non-finite value, y length ≠ rows, per-job nnz or memory budget exceeded (details carry the figures).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/QueueFull"
          },
          "503": {
            "$ref": "#/components/responses/ShuttingDown"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      },
      "get": {
        "operationId": "listJobs",
        "summary": "Jobs in submission order, paged.",
        "parameters": [
          {
            "name": "offset",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 0,
              "default": 0
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500,
              "default": 50
            }
          },
          {
            "name": "status",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "queued",
                "running",
                "succeeded",
                "failed",
                "cancelled",
                "interrupted"
              ]
            }
          }
        ],
        "responses": {
          "200": {
            "description": "A page.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/JobPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/MalformedRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/jobs/{id}": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string",
            "format": "uuid"
          },
          "description": "Job id (a UUID the server generated)."
        }
      ],
      "get": {
        "operationId": "getJob",
        "summary": "Status, live progress, and the report when done.",
        "parameters": [
          {
            "name": "wait",
            "in": "query",
            "schema": {
              "type": "number",
              "minimum": 0,
              "maximum": 60
            },
            "description": "Long-poll: answer as soon as the job is finished, or after this many seconds."
          }
        ],
        "responses": {
          "200": {
            "description": "The job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "400": {
            "description": "Not a UUID, or a bad query.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NoSuchJob"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      },
      "delete": {
        "operationId": "cancelJob",
        "summary": "Cancel: a queued job at once, a running one cooperatively.",
        "responses": {
          "200": {
            "description": "Cancelled (or already cancelled).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "202": {
            "description": "Running: asked to stop; poll for the final state.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Job"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/NotAUUID"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NoSuchJob"
          },
          "409": {
            "description": "Already finished.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/jobs/{id}/solution": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string",
            "format": "uuid"
          },
          "description": "Job id (a UUID the server generated)."
        }
      ],
      "get": {
        "operationId": "getSolution",
        "summary": "x, in the format the Accept header (or ?format=) asks for.",
        "parameters": [
          {
            "name": "format",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "dense",
                "json",
                "sparse",
                "mtx",
                "npy"
              ]
            }
          }
        ],
        "responses": {
          "200": {
            "description": "x.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/DenseSolution"
                }
              },
              "application/vnd.lsq.sparse+json": {
                "schema": {
                  "$ref": "#/components/schemas/SparseSolution"
                }
              },
              "text/x-matrix-market": {
                "schema": {
                  "type": "string"
                }
              },
              "application/x-npy": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "description": "Not a UUID, or a bad format.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "description": "No such job, or a product job.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "406": {
            "$ref": "#/components/responses/NotAcceptable"
          },
          "409": {
            "description": "No solution yet (queued, running, failed).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/jobs/{id}/result": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "schema": {
            "type": "string",
            "format": "uuid"
          },
          "description": "Job id (a UUID the server generated)."
        }
      ],
      "get": {
        "operationId": "getResult",
        "summary": "The product matrix of a product job (or x of a solve job).",
        "parameters": [
          {
            "name": "format",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "dense",
                "json",
                "sparse",
                "mtx",
                "npy"
              ]
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The result.",
            "content": {
              "application/json": {
                "schema": {
                  "oneOf": [
                    {
                      "$ref": "#/components/schemas/CsrResult"
                    },
                    {
                      "$ref": "#/components/schemas/DenseSolution"
                    }
                  ]
                }
              },
              "application/vnd.lsq.sparse+json": {
                "schema": {
                  "$ref": "#/components/schemas/SparseSolution"
                }
              },
              "text/x-matrix-market": {
                "schema": {
                  "type": "string"
                }
              },
              "application/x-npy": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/NotAUUID"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "404": {
            "$ref": "#/components/responses/NoSuchJob"
          },
          "406": {
            "$ref": "#/components/responses/NotAcceptable"
          },
          "409": {
            "description": "No result yet.",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    },
    "/v1/products": {
      "post": {
        "operationId": "submitProduct",
        "summary": "Submit a sparse product job: A·Aᵀ, AᵀA or A·B.",
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ProductRequest"
              }
            }
          }
        },
        "responses": {
          "202": {
            "$ref": "#/components/responses/Accepted"
          },
          "400": {
            "$ref": "#/components/responses/MalformedRequest"
          },
          "401": {
            "$ref": "#/components/responses/Unauthorized"
          },
          "408": {
            "$ref": "#/components/responses/RequestTimeout"
          },
          "413": {
            "$ref": "#/components/responses/BodyTooLarge"
          },
          "507": {
            "$ref": "#/components/responses/InsufficientStorage"
          },
          "414": {
            "$ref": "#/components/responses/RequestLineTooLong"
          },
          "431": {
            "$ref": "#/components/responses/HeaderFieldsTooLarge"
          },
          "411": {
            "$ref": "#/components/responses/NoBody"
          },
          "415": {
            "$ref": "#/components/responses/UnsupportedContentType"
          },
          "422": {
            "description": "Invalid matrices, or the product's estimated size exceeds the memory budget (details: requiredBytes, budgetBytes, estimatedNNZ).",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "429": {
            "$ref": "#/components/responses/QueueFull"
          },
          "503": {
            "$ref": "#/components/responses/ShuttingDown"
          },
          "405": {
            "$ref": "#/components/responses/MethodNotAllowed"
          }
        }
      }
    }
  }
}
"""#
}
